using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rdev.Api.Execution;

namespace Rdev.Api.Local;

/// <summary>The local runtime always takes calls; it is ready when the projects root (discovery's setting) exists.</summary>
public sealed class LocalRuntimeStatus(IConfiguration configuration) : IRuntimeStatus
{
    public RuntimeUnavailableException? Refusal => null;

    public HealthCheckResult Check() =>
        configuration["Rdev:Local:ProjectsRoot"] is not { } root || Directory.Exists(root)
            ? HealthCheckResult.Healthy("Local runtime.")
            : HealthCheckResult.Unhealthy("The local projects root does not exist.");
}
