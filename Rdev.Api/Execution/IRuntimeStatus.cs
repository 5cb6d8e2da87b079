using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rdev.Api.Execution;

/// <summary>
/// Whether the runtime takes calls now. Features ask before they start work, so that a failing runtime answers at
/// once instead of after a timeout; <c>/ready</c> reports <see cref="Check"/>.
/// </summary>
public interface IRuntimeStatus
{
    /// <summary>Why the runtime refuses calls right now (the Kubernetes circuit is open), or null when it takes them.</summary>
    RuntimeUnavailableException? Refusal { get; }

    /// <summary>The runtime's part of <c>/ready</c>.</summary>
    HealthCheckResult Check();
}
