using System.Runtime.CompilerServices;
using Rdev.Client;

namespace Rdev.Console.Api;

public sealed partial class RdevApi
{
    /// <summary>
    /// A command's events (<c>GET /api/v1/commands/{id}/stream</c>) from the start, across disconnects: Rdev.Client's
    /// reader resumes with <c>Last-Event-ID</c>, so nothing is lost or repeated. Ends after the final status.
    /// </summary>
    public async IAsyncEnumerable<CommandStreamEvent> CommandEventsAsync(Guid id, [EnumeratorCancellation] CancellationToken ct)
    {
        var client = await StreamClientAsync();
        await foreach (var e in client.StreamCommandAsync(id, cancellationToken: ct))
        {
            yield return e;
        }
    }

    /// <summary>
    /// The watch-all feed (<c>GET /api/v1/events</c>): every command event the server keeps, then live, across
    /// disconnects.
    /// </summary>
    public async IAsyncEnumerable<CommandChange> FeedAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var client = await StreamClientAsync();
        await foreach (var e in client.StreamEventsAsync(cancellationToken: ct))
        {
            if (e.Command is { } change)
            {
                yield return change;
            }
        }
    }

    // A page follows a stream for as long as it is open: the reader reconnects without giving up (its default stops
    // after 10 failures in a row), backing off to 30 s while the API is away.
    private async Task<RdevClient> StreamClientAsync() =>
        new(http.CreateClient(ApiClients.Streams), await user.KeyAsync()) { MaxReconnectAttempts = int.MaxValue };
}
