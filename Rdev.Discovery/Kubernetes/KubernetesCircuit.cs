using System.Net;
using k8s.Autorest;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>
/// The circuit breaker around Kubernetes API calls (list, and opening a watch). When most recent calls fail it opens
/// and calls fail fast with <see cref="BrokenCircuitException"/> until one trial call succeeds. Its state is the gauge
/// <c>rdev_kubernetes_circuit_state</c> (0 closed, 1 half-open, 2 open) and part of <c>/ready</c>.
/// </summary>
public sealed class KubernetesCircuit
{
    public const string HealthSource = "kubernetes-api";

    private readonly CircuitBreakerStateProvider state = new();
    private readonly ResiliencePipeline pipeline;

    public KubernetesCircuit(IOptions<DiscoveryOptions> options, DiscoveryMetrics metrics, DiscoveryHealth health, ILogger<KubernetesCircuit> logger)
    {
        var breakDuration = options.Value.Kubernetes.CircuitBreakDuration;
        health.Report(HealthSource, live: true, "Circuit closed.");
        pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = breakDuration,
                StateProvider = state,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsKubernetesFailure),
                OnOpened = args =>
                {
                    logger.LogWarning("Kubernetes API circuit opened for {Duration} after repeated failures", args.BreakDuration);
                    health.Report(HealthSource, live: false, $"Circuit open: the Kubernetes API failed repeatedly; next trial in {args.BreakDuration}.");
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    logger.LogInformation("Kubernetes API circuit half-open: trying one call");
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("Kubernetes API circuit closed");
                    health.Report(HealthSource, live: true, "Circuit closed.");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        metrics.Meter.CreateObservableGauge("rdev_kubernetes_circuit_state", () => StateValue,
            description: "Circuit breaker around Kubernetes API calls: 0 closed, 1 half-open, 2 open.");
    }

    public CircuitState State => state.CircuitState;

    private int StateValue => state.CircuitState switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 1,
        _ => 2,
    };

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(call, cancellationToken);

    // Client errors (403 without RBAC, 404 for a missing namespace) are answers, not an unavailable API server;
    // 429 and 5xx, transport errors and timeouts are.
    private static bool IsKubernetesFailure(Exception ex) => ex switch
    {
        HttpOperationException { Response.StatusCode: var code } => code == HttpStatusCode.TooManyRequests || (int)code >= 500,
        OperationCanceledException => false,
        HttpRequestException or IOException or TimeoutException => true,
        _ => false,
    };
}
