using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Threading.Channels;
using Polly;
using Polly.Retry;

namespace Rdev.Client;

/// <summary>
/// Reads an rdev SSE stream and resumes it: when the connection drops, the server ends it with <c>retry:</c> (a
/// restart, a database hiccup) or answers 5xx/429, it reconnects with <c>Last-Event-ID</c> after the server's delay
/// (else a jittered backoff), so every event is yielded exactly once and in order. 401, 403, 404 and 400 are not
/// retried: they surface as <see cref="RdevProblemException"/>. A command's stream ends after its final status; the
/// events feed never ends by itself.
/// </summary>
internal sealed class EventStreamReader(HttpClient http, AuthenticationHeaderValue authorization, RdevClient settings)
{
    private const int Buffered = 256;

    public async IAsyncEnumerable<CommandStreamEvent> ReadAsync(
        string path, long lastEventId, bool endsAtFinalStatus, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The reading (and its retries) runs beside the caller, so that a reconnect needs no yield inside a catch.
        var channel = Channel.CreateBounded<CommandStreamEvent>(new BoundedChannelOptions(Buffered) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var failure = (Exception?)null;
        var reading = Task.Run(async () =>
        {
            try
            {
                await ReadResumingAsync(path, lastEventId, endsAtFinalStatus, channel.Writer, stop.Token);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                failure = e;
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task ReadResumingAsync(
        string path, long lastEventId, bool endsAtFinalStatus, ChannelWriter<CommandStreamEvent> writer, CancellationToken ct)
    {
        var last = lastEventId;
        var failuresInARow = 0;
        TimeSpan? serverRetry = null;
        var pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } e && IsTransient(e, ct) && ++failuresInARow <= settings.MaxReconnectAttempts),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = settings.ReconnectDelay,
            MaxDelay = TimeSpan.FromSeconds(30),
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception switch
            {
                RdevProblemException { RetryAfter: { } after } => after,
                StreamInterruptedException when serverRetry is { } retry => retry,
                _ => (TimeSpan?)null,
            }),
            OnRetry = args =>
            {
                settings.OnReconnect?.Invoke(new StreamReconnect(path, last, failuresInARow, args.RetryDelay, args.Outcome.Exception!));
                return ValueTask.CompletedTask;
            },
        }).Build();

        await pipeline.ExecuteAsync(async token =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = authorization;
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (last > 0)
            {
                request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (!response.IsSuccessStatusCode)
            {
                throw await RdevProblemException.FromResponseAsync(response, token);
            }

            await using var body = await response.Content.ReadAsStreamAsync(token);
            var parser = SseParser.Create(body, static (_, data) => JsonSerializer.Deserialize<JsonElement>(data));
            serverRetry = null;
            await foreach (var item in parser.EnumerateAsync(token))
            {
                // Ids strictly increase; an event at or before the last one yielded was already delivered.
                if (!long.TryParse(item.EventId, out var id) || id <= last)
                {
                    continue;
                }

                var next = new CommandStreamEvent(id, item.EventType, item.Data);
                await writer.WriteAsync(next, token);
                last = id;
                failuresInARow = 0;
                if (endsAtFinalStatus && next.IsFinalStatus)
                {
                    return;
                }
            }

            if (parser.ReconnectionInterval > TimeSpan.Zero && parser.ReconnectionInterval != Timeout.InfiniteTimeSpan)
            {
                serverRetry = parser.ReconnectionInterval;
            }

            throw new StreamInterruptedException();
        }, ct);
    }

    private static bool IsTransient(Exception e, CancellationToken ct) => e switch
    {
        RdevProblemException problem => problem.Status is >= 500 or 408 or 429,
        StreamInterruptedException or HttpRequestException or IOException => true,
        // HttpClient's own timeout, not the caller's cancellation.
        OperationCanceledException => !ct.IsCancellationRequested,
        _ => false,
    };

    /// <summary>The server closed the stream before its end (<c>retry:</c>, a restart) or a feed's connection ended.</summary>
    private sealed class StreamInterruptedException() : Exception("The event stream ended before its final event.");
}

/// <summary>What a stream reader tells <see cref="RdevClient.OnReconnect"/> before it reconnects.</summary>
/// <param name="Path">The stream's URL.</param>
/// <param name="LastEventId">The id it resumes after (sent as <c>Last-Event-ID</c>).</param>
/// <param name="Attempt">1 for the first reconnect after a failure, counting up while reconnects fail.</param>
/// <param name="Delay">How long it waits first.</param>
/// <param name="Reason">What ended the connection.</param>
public sealed record StreamReconnect(string Path, long LastEventId, int Attempt, TimeSpan Delay, Exception Reason);
