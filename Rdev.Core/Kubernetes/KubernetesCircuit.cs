using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace Rdev.Core.Kubernetes;

/// <summary>Circuit state as the gauge reports it.</summary>
public enum KubernetesCircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// The circuit breaker around calls to the Kubernetes API (the API's execs, discovery's lists and watches). It opens
/// when, within <see cref="KubernetesCircuitOptions.CircuitSamplingDuration"/>, at least
/// <see cref="KubernetesCircuitOptions.CircuitFailureThreshold"/> calls were made and the
/// <see cref="KubernetesCircuitOptions.CircuitFailureRatio"/> of them were outages (as
/// <see cref="IKubernetesOutageClassifier"/> says); while open, calls fail fast with
/// <see cref="BrokenCircuitException"/>. After the break one trial call goes through: success closes it, failure
/// opens it again. Its state is the gauge <c>rdev_kubernetes_circuit_state</c> on the service's meter.
/// </summary>
public sealed partial class KubernetesCircuit
{
    public const string GaugeName = "rdev_kubernetes_circuit_state";

    private readonly CircuitBreakerStateProvider stateProvider = new();
    private readonly ResiliencePipeline pipeline;
    private readonly TimeProvider time;
    private long trialAllowedAtTicks;

    public KubernetesCircuit(
        string meterName,
        IOptions<KubernetesCircuitOptions> options,
        IKubernetesOutageClassifier classifier,
        IEnumerable<IKubernetesCircuitObserver> observers,
        IMeterFactory meterFactory,
        TimeProvider time,
        ILogger<KubernetesCircuit> logger)
    {
        this.time = time;
        var settings = options.Value;
        var listeners = observers.ToArray();
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.CircuitFailureRatio,
                MinimumThroughput = settings.CircuitFailureThreshold,
                SamplingDuration = settings.CircuitSamplingDuration,
                BreakDuration = settings.CircuitBreakDuration,
                StateProvider = stateProvider,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(classifier.IsOutage),
                OnOpened = args =>
                {
                    Volatile.Write(ref trialAllowedAtTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    LogOpened(logger, args.BreakDuration);
                    Array.ForEach(listeners, l => l.Opened(args.BreakDuration));
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    LogHalfOpen(logger);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(logger);
                    Array.ForEach(listeners, l => l.Closed());
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        meterFactory.Create(meterName).CreateObservableGauge(GaugeName, () => (int)State,
            description: "Circuit breaker around Kubernetes API calls: 0 closed, 1 half-open, 2 open.");
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kubernetes API circuit opened for {BreakDuration} after repeated failures")]
    private static partial void LogOpened(ILogger logger, TimeSpan breakDuration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kubernetes API circuit half-open: trying one call")]
    private static partial void LogHalfOpen(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kubernetes API circuit closed")]
    private static partial void LogClosed(ILogger logger);
}
