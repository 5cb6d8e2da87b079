using Rdev.Client;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Follows the events feed (<c>GET /api/v1/events</c>, reconnecting with Last-Event-ID) and calls back for each command
/// that starts waiting for an approval, until the run is stopped.
/// </summary>
public static class ApprovalWatch
{
    public static async Task RunAsync(
        RdevClient api, string? project, Func<Guid, CancellationToken, Task> onWaiting, CancellationToken cancellationToken)
    {
        // The feed replays what it keeps (days) before it goes live; what waited before the watch began was listed.
        var since = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(30);
        await foreach (var item in api.StreamEventsAsync(project, cancellationToken: cancellationToken))
        {
            if (item.Command is { Status: "waiting_approval" } change && change.At >= since)
            {
                await onWaiting(change.Id, cancellationToken);
            }
        }
    }
}
