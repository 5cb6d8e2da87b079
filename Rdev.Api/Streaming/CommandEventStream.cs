using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Npgsql;
using Rdev.Api.Commands;
using Rdev.Api.Keys;

namespace Rdev.Api.Streaming;

/// <summary>
/// <c>text/event-stream</c> of one command (SPEC section 6): every stored event after <c>Last-Event-ID</c>, then live
/// ones as any replica stores them, until the final status. Events come from this replica's
/// <see cref="CommandStreamHub"/> by sequence number, so replay and live delivery cannot leave a gap or repeat an event.
/// A stream ends, after a final comment, once its API key is revoked or expires (<see cref="KeyValidityWatch"/>); a
/// reconnect with that key then gets 401. When the database fails under it or this replica stops, it sends
/// <c>retry:</c> and closes, so the client comes back with its Last-Event-ID; it never ends as if complete.
/// </summary>
/// <remarks>
/// Written by hand rather than with <c>TypedResults.ServerSentEvents</c>, which cannot send the comment heartbeats
/// SPEC section 6 asks for. Frames are built by <see cref="StreamEvent.From"/>, which keeps stored data inside its event.
/// </remarks>
public sealed partial class CommandEventStream(Guid commandId, long afterSeq) : IResult
{
    // Written in slices with a flush between them, so one client never holds more than this (plus Kestrel's own
    // response buffer) of a large event in its own memory; the event itself is shared.
    private const int SliceBytes = 64 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var services = httpContext.RequestServices;
        var hub = services.GetRequiredService<CommandStreamHub>();
        var metrics = services.GetRequiredService<CommandMetrics>();
        var streamMetrics = services.GetRequiredService<StreamMetrics>();
        var settings = services.GetRequiredService<IOptions<StreamingOptions>>().Value;
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var logger = services.GetRequiredService<ILogger<CommandEventStream>>();

        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var subscription = hub.Subscribe(commandId);
        using var keyWatch = httpContext.Features.Get<ApiKey>() is { } key
            ? new KeyValidityWatch(services.GetRequiredService<ApiKeyCache>(), services.GetRequiredService<TimeProvider>(),
                key, TimeSpan.FromSeconds(settings.KeyRecheckSeconds), subscription.Signal)
            : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
        var ct = linked.Token;
        var writer = new ClientWriter(response.BodyWriter, TimeSpan.FromSeconds(settings.StalledClientSeconds), ct);
        var heartbeat = TimeSpan.FromSeconds(settings.HeartbeatSeconds);
        // Wake up at least this often so a revoked or expired key is noticed; heartbeats still follow their own clock.
        var wakeUp = TimeSpan.FromSeconds(Math.Min(settings.HeartbeatSeconds, settings.KeyRecheckSeconds));
        var lastWrite = Stopwatch.GetTimestamp();
        var after = afterSeq;
        var reason = "complete";
        metrics.StreamOpened();
        try
        {
            await response.StartAsync(ct);
            while (true)
            {
                if (keyWatch is not null && !await keyWatch.IsStillValidAsync(ct))
                {
                    reason = "key_revoked";
                    await writer.WriteAsync(": the API key of this stream was revoked or has expired\n\n");
                    return;
                }

                var events = await subscription.NextAsync(after, ct);
                if (events.Count > 0)
                {
                    var final = false;
                    foreach (var e in events)
                    {
                        await writer.WriteAsync(e.Frame);
                        after = e.Seq;
                        final = e.IsFinal;
                        if (final)
                        {
                            break;
                        }
                    }

                    await writer.FlushAsync();
                    lastWrite = Stopwatch.GetTimestamp();
                    metrics.EventsSent(events.Count);
                    if (final)
                    {
                        return;
                    }

                    continue;
                }

                var untilHeartbeat = heartbeat - Stopwatch.GetElapsedTime(lastWrite);
                var heartbeatDue = untilHeartbeat <= wakeUp;
                if (!await subscription.WaitAsync(heartbeatDue ? TimeSpan.FromTicks(Math.Max(0, untilHeartbeat.Ticks)) : wakeUp, ct) && heartbeatDue)
                {
                    await writer.WriteAsync(": heartbeat\n\n");
                    lastWrite = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested)
        {
            // This replica is shutting down: tell the client to come back (to any replica) with its Last-Event-ID.
            reason = "shutdown";
            await SendRetryAsync(httpContext, settings);
        }
        catch (OperationCanceledException) when (writer.Stalled)
        {
            // Nothing written was taken for StalledClientSeconds: close rather than buffer for it.
            reason = "stalled";
            LogStalled(logger, commandId, settings.StalledClientSeconds);
            httpContext.Abort();
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the command goes on.
            reason = "client_gone";
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The stored events cannot be read right now: the client retries, here or on another replica.
            reason = "database_error";
            LogDatabaseError(logger, commandId, ex);
            await SendRetryAsync(httpContext, settings);
        }
        finally
        {
            streamMetrics.Closed(reason);
            metrics.StreamClosed();
        }
    }

    /// <summary>Tells the client when to reconnect; one that does not take it in time is disconnected, to the same effect.</summary>
    private static async Task SendRetryAsync(HttpContext httpContext, StreamingOptions settings)
    {
        var writer = httpContext.Response.BodyWriter;
        Encoding.UTF8.GetBytes($"retry: {settings.ReconnectMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n", writer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Min(5, settings.StalledClientSeconds)));
        try
        {
            await writer.FlushAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            httpContext.Abort();
        }
    }

    [LoggerMessage(LogLevel.Information, "Closed the stream of command {CommandId}: its client took nothing for {Seconds} s")]
    private static partial void LogStalled(ILogger logger, Guid commandId, double seconds);

    [LoggerMessage(LogLevel.Warning, "The stream of command {CommandId} could not read stored events; the client was told to retry")]
    private static partial void LogDatabaseError(ILogger logger, Guid commandId, Exception exception);

    /// <summary>
    /// Writes to one client in slices and waits for it to take them: a flush that does not complete within
    /// <paramref name="stallTimeout"/> cancels with <see cref="Stalled"/> set.
    /// </summary>
    private sealed class ClientWriter(PipeWriter writer, TimeSpan stallTimeout, CancellationToken ct)
    {
        private long unflushed;

        public bool Stalled { get; private set; }

        public async Task WriteAsync(string text)
        {
            Encoding.UTF8.GetBytes(text, writer);
            await FlushAsync();
        }

        public async Task WriteAsync(byte[] frame)
        {
            for (var offset = 0; offset < frame.Length; offset += SliceBytes)
            {
                var slice = frame.AsSpan(offset, Math.Min(SliceBytes, frame.Length - offset));
                writer.Write(slice);
                unflushed += slice.Length;
                if (unflushed >= SliceBytes)
                {
                    await FlushAsync();
                }
            }
        }

        public async Task FlushAsync()
        {
            unflushed = 0;
            // Kestrel answers a cancelled flush by aborting the connection, without throwing: the timer says why.
            using var timer = new CancellationTokenSource(stallTimeout);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
            try
            {
                await writer.FlushAsync(either.Token);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested)
            {
            }

            if (timer.IsCancellationRequested)
            {
                Stalled = true;
                throw new OperationCanceledException("The client took nothing for the stall timeout.");
            }
        }
    }
}
