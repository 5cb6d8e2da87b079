using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Rdev.Discovery.Projects;

/// <summary>
/// The <c>discovery</c> readiness check: every source (each watch, the local folder, the publisher) reports whether it
/// is live. A source that is down is <c>degraded</c> for <see cref="DiscoveryOptions.ReadyGracePeriod"/> (a watch
/// reconnect is normal), then <c>unhealthy</c>; one that never came up is unhealthy at once.
/// </summary>
public sealed class DiscoveryHealth(IOptions<DiscoveryOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly ConcurrentDictionary<string, SourceState> sources = new();

    public void Report(string source, bool live, string detail) =>
        sources.AddOrUpdate(
            source,
            _ => new SourceState(live, live, time.GetUtcNow(), detail),
            (_, current) => new SourceState(
                live, current.EverLive || live, current.Live == live ? current.Since : time.GetUtcNow(), detail));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var grace = options.Value.ReadyGracePeriod;
        var states = sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        var description = string.Join(" ", states.Select(s => $"{s.Key}: {s.Value.Detail}"));
        var data = states.ToDictionary(s => s.Key, s => (object)(s.Value.Live ? "live" : "down"));
        if (states.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Discovery has not started.", data: data));
        }

        var down = states.Where(s => !s.Value.Live).ToList();
        if (down.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy(description, data));
        }

        return Task.FromResult(down.Any(s => !s.Value.EverLive || now - s.Value.Since > grace)
            ? HealthCheckResult.Unhealthy(description, data: data)
            : HealthCheckResult.Degraded(description, data: data));
    }

    private sealed record SourceState(bool Live, bool EverLive, DateTimeOffset Since, string Detail);
}
