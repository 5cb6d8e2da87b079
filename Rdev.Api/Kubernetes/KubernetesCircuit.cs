using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace Rdev.Api.Kubernetes;

/// <summary>Circuit state as the gauge reports it.</summary>
public enum KubernetesCircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// The circuit breaker around exec requests to the Kubernetes API. It opens after
/// <see cref="KubernetesRuntimeOptions.CircuitFailureThreshold"/> failed requests with no success in between (within
/// the sampling window); while open, execs fail fast without a request. After the break one trial request goes
/// through: success closes it, failure opens it again. Only outages count (transport errors, timeouts, 429, 5xx):
/// a missing pod or a refused request is an answer from a working API server.
/// </summary>
public sealed class KubernetesCircuit
{
    public const string MeterName = "Rdev.Api";

    private readonly CircuitBreakerStateProvider stateProvider = new();
    private readonly ResiliencePipeline pipeline;
    private readonly TimeProvider time;
    private long trialAllowedAtTicks;

    public KubernetesCircuit(IOptions<KubernetesRuntimeOptions> options, IMeterFactory meterFactory, TimeProvider time, ILogger<KubernetesCircuit> logger)
    {
        this.time = time;
        var settings = options.Value;
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = settings.CircuitFailureThreshold,
                SamplingDuration = settings.CircuitSamplingDuration,
                BreakDuration = settings.CircuitBreakDuration,
                StateProvider = stateProvider,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => ExecFailure.Classify(e)?.Outage == true),
                OnOpened = args =>
                {
                    Volatile.Write(ref trialAllowedAtTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    logger.LogWarning("Kubernetes exec circuit opened for {BreakDuration} after repeated failures", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    logger.LogInformation("Kubernetes exec circuit half-open: trying one exec");
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("Kubernetes exec circuit closed");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        meterFactory.Create(MeterName).CreateObservableGauge("rdev_kubernetes_circuit_state", () => (int)State,
            description: "Circuit breaker around Kubernetes exec requests: 0 closed, 1 half-open, 2 open.");
    }

    /// <summary>
    /// The state for <c>/ready</c> and the gauge. Polly moves an open circuit to half-open only when the next call
    /// arrives; here it reads half-open as soon as the break is over, so a replica taken out of its Service while
    /// open is not kept out forever for lack of the call that would close it.
    /// </summary>
    public KubernetesCircuitState State => stateProvider.CircuitState switch
    {
        CircuitState.Closed => KubernetesCircuitState.Closed,
        CircuitState.HalfOpen => KubernetesCircuitState.HalfOpen,
        CircuitState.Open when time.GetUtcNow().UtcTicks >= Volatile.Read(ref trialAllowedAtTicks) => KubernetesCircuitState.HalfOpen,
        _ => KubernetesCircuitState.Open,
    };

    /// <exception cref="BrokenCircuitException">The circuit is open.</exception>
    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(call, cancellationToken);
}
