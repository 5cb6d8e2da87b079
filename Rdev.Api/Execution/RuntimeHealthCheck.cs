using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rdev.Api.Execution;

/// <summary>The runtime part of <c>/ready</c>, as the runtime's <see cref="IRuntimeStatus"/> reports it.</summary>
public sealed class RuntimeHealthCheck(IRuntimeStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.Check());
}
