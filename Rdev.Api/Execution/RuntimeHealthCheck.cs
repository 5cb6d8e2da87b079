using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rdev.Api.Kubernetes;

namespace Rdev.Api.Execution;

/// <summary>
/// The runtime part of <c>/ready</c>: on kubernetes, whether the circuit around the Kubernetes API is closed; on local,
/// whether the projects root exists.
/// </summary>
public sealed class RuntimeHealthCheck(IServiceProvider services, IConfiguration configuration) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<KubernetesCircuit>() is { } circuit)
        {
            return Task.FromResult(circuit.State == KubernetesCircuitState.Open
                ? HealthCheckResult.Unhealthy("The Kubernetes API is failing: the circuit is open.")
                : HealthCheckResult.Healthy($"Kubernetes circuit {circuit.State.ToString().ToLowerInvariant()}."));
        }

        var root = configuration["Rdev:Local:ProjectsRoot"];
        return Task.FromResult(root is null || Directory.Exists(root)
            ? HealthCheckResult.Healthy("Local runtime.")
            : HealthCheckResult.Unhealthy("The local projects root does not exist."));
    }
}
