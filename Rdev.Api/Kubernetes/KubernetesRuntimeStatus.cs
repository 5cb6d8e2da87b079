using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>The Kubernetes runtime takes calls unless the circuit around its API is open.</summary>
public sealed class KubernetesRuntimeStatus(KubernetesCircuit circuit) : IRuntimeStatus
{
    public RuntimeUnavailableException? Refusal => circuit.State == KubernetesCircuitState.Open
        ? new RuntimeUnavailableException("The Kubernetes API is failing; rdev stops calling it for a while.", RuntimeBlame.Runtime)
        : null;

    public HealthCheckResult Check() => circuit.State == KubernetesCircuitState.Open
        ? HealthCheckResult.Unhealthy("The Kubernetes API is failing: the circuit is open.")
        : HealthCheckResult.Healthy($"Kubernetes circuit {circuit.State.ToString().ToLowerInvariant()}.");
}
