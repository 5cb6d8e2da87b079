using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Polly;
using Polly.Retry;

namespace Rdev.Console.Api;

public sealed partial class RdevApi
{
    // Reconnects for as long as the page wants the stream, backing off to 10 s (with jitter) while the API is away.
    private static readonly ResiliencePipeline Reconnect = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<HttpRequestException>()
                .Handle<IOException>()
                .Handle<StreamInterruptedException>()
                .Handle<ApiProblemException>(p => (int)p.Status >= 500 || p.Status == System.Net.HttpStatusCode.TooManyRequests),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(250),
            MaxDelay = TimeSpan.FromSeconds(10),
        })
        .Build();

    /// <summary>
    /// A command's events (<c>GET /api/v1/commands/{id}/stream</c>) from the start, across disconnects: each
    /// reconnect sends <c>Last-Event-ID</c>, so nothing is lost or repeated. Ends after the final status.
    /// </summary>
    public IAsyncEnumerable<ApiEvent> CommandEventsAsync(Guid id, CancellationToken ct) =>
        EventsAsync($"/api/v1/commands/{id}/stream", endsNormally: true, connected: null, ct);

    /// <summary>
    /// The watch-all feed (<c>GET /api/v1/events</c>): every command event the server keeps, then live, across
    /// disconnects.
    /// </summary>
    public async IAsyncEnumerable<FeedEvent> FeedAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in EventsAsync("/api/v1/events", endsNormally: false, connected: null, ct))
        {
            if (e.Type == "command" && System.Text.Json.JsonSerializer.Deserialize<FeedEvent>(e.Data, Json) is { } change)
            {
                yield return change;
            }
        }
    }

    private async IAsyncEnumerable<ApiEvent> EventsAsync(
        string path, bool endsNormally, Func<Task>? connected, [EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<ApiEvent>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        var pump = Task.Run(async () =>
        {
            long? last = null;
            var final = false;
            try
            {
                await Reconnect.ExecuteAsync(async token =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, path);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await user.KeyAsync());
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    if (last is { } after)
                    {
                        request.Headers.Add("Last-Event-ID", after.ToString(CultureInfo.InvariantCulture));
                    }

                    using var response = await clients.CreateClient(ApiClients.Streams)
                        .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw await ApiProblemException.ReadAsync(response, token);
                    }

                    if (connected is not null)
                    {
                        await connected();
                    }

                    await using var body = await response.Content.ReadAsStreamAsync(token);
                    await foreach (var item in SseParser.Create(body).EnumerateAsync(token))
                    {
                        long? eventId = long.TryParse(item.EventId, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
                        last = eventId ?? last;
                        final |= item.EventType == "status" && IsFinalStatus(item.Data);
                        await channel.Writer.WriteAsync(new ApiEvent(item.EventType, item.Data, eventId), token);
                    }

                    // The command stream ends after the final status; the feed ending means the server went away.
                    if (!endsNormally || !final)
                    {
                        throw new StreamInterruptedException();
                    }
                }, ct);
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e is OperationCanceledException ? null : e);
            }
        }, CancellationToken.None);

        await foreach (var item in channel.Reader.ReadAllAsync(ct))
        {
            yield return item;
        }

        await pump;
    }

    private static bool IsFinalStatus(string data)
    {
        using var json = System.Text.Json.JsonDocument.Parse(data);
        return json.RootElement.TryGetProperty("status", out var status) && CommandStatuses.IsFinal(status.GetString() ?? "");
    }

    private sealed class StreamInterruptedException : Exception;
}
