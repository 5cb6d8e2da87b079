using System.Net;
using System.Runtime.CompilerServices;
using Rdev.Client;

namespace Rdev.Console.Api;

public sealed partial class RdevApi
{
    /// <summary>
    /// A command's events (<c>GET /api/v1/commands/{id}/stream</c>) from the start, across disconnects: Rdev.Client's
    /// reader resumes with <c>Last-Event-ID</c>, so nothing is lost or repeated. Ends after the final status.
    /// </summary>
    public async IAsyncEnumerable<ApiEvent> CommandEventsAsync(Guid id, [EnumeratorCancellation] CancellationToken ct)
    {
        var client = await StreamClientAsync();
        await using var events = client.StreamCommandAsync(id, cancellationToken: ct).GetAsyncEnumerator(ct);
        while (await NextAsync(events))
        {
            yield return new ApiEvent(events.Current.Type, events.Current.Data.GetRawText(), events.Current.Id);
        }
    }

    /// <summary>
    /// The watch-all feed (<c>GET /api/v1/events</c>): every command event the server keeps, then live, across
    /// disconnects.
    /// </summary>
    public async IAsyncEnumerable<FeedEvent> FeedAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var client = await StreamClientAsync();
        await using var events = client.StreamEventsAsync(cancellationToken: ct).GetAsyncEnumerator(ct);
        while (await NextAsync(events))
        {
            if (events.Current.Command is { } change)
            {
                yield return new FeedEvent(change.Id, change.Project, change.Kind, change.Status, change.ExitCode, change.KeyId, change.At);
            }
        }
    }

    // A page follows a stream for as long as it is open: the reader reconnects without giving up (its default stops
    // after 10 failures in a row), backing off to 30 s while the API is away.
    private async Task<RdevClient> StreamClientAsync() =>
        new(http.CreateClient(ApiClients.Streams), await user.KeyAsync()) { MaxReconnectAttempts = int.MaxValue };

    private static async Task<bool> NextAsync<T>(IAsyncEnumerator<T> events)
    {
        try
        {
            return await events.MoveNextAsync();
        }
        catch (RdevProblemException problem)
        {
            throw new ApiProblemException((HttpStatusCode)problem.Status, problem.Code, problem.Message);
        }
    }
}
