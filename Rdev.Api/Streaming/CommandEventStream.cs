using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Rdev.Api.Commands;
using Rdev.Api.Keys;

namespace Rdev.Api.Streaming;

/// <summary>
/// <c>text/event-stream</c> of one command (SPEC section 6): every stored event after <c>Last-Event-ID</c>, then live
/// ones as any replica stores them, until the final status. Events are always read from Postgres by sequence number,
/// so replay and live delivery cannot leave a gap or repeat an event. A stream ends, after a final comment, once
/// its API key is revoked or expires (<see cref="KeyValidityWatch"/>); a reconnect with that key then gets 401.
/// </summary>
/// <remarks>
/// Written by hand rather than with <c>TypedResults.ServerSentEvents</c>, which cannot send the comment heartbeats
/// SPEC section 6 asks for. Event data is JSON serialized by System.Text.Json, which escapes CR and LF, so output
/// from a pod can never start a new SSE field or event.
/// </remarks>
public sealed class CommandEventStream(Guid commandId, long afterSeq) : IResult
{
    // Output events hold up to 64 KiB of output each: a page stays about 2 MiB in memory per stream, which is what
    // bounds the API's memory with many subscribers (docs/benchmarks.md).
    private const int PageSize = 16;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var services = httpContext.RequestServices;
        var store = services.GetRequiredService<CommandStore>();
        var signals = services.GetRequiredService<CommandEventSignals>();
        var metrics = services.GetRequiredService<CommandMetrics>();
        var settings = services.GetRequiredService<IOptions<StreamingOptions>>().Value;
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var waiter = signals.Register(commandId);
        using var keyWatch = httpContext.Features.Get<ApiKey>() is { } key
            ? new KeyValidityWatch(services.GetRequiredService<ApiKeyCache>(), services.GetRequiredService<TimeProvider>(),
                key, TimeSpan.FromSeconds(settings.KeyRecheckSeconds), waiter.Signal)
            : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
        var ct = linked.Token;
        var heartbeat = TimeSpan.FromSeconds(settings.HeartbeatSeconds);
        // Wake up at least this often so a revoked or expired key is noticed; heartbeats still follow their own clock.
        var wakeUp = TimeSpan.FromSeconds(Math.Min(settings.HeartbeatSeconds, settings.KeyRecheckSeconds));
        var lastWrite = Stopwatch.GetTimestamp();
        var after = afterSeq;
        metrics.StreamOpened();
        try
        {
            await response.StartAsync(ct);
            while (true)
            {
                if (keyWatch is not null && !await keyWatch.IsStillValidAsync(ct))
                {
                    Write(response.BodyWriter, ": the API key of this stream was revoked or has expired\n\n");
                    await response.BodyWriter.FlushAsync(ct);
                    return;
                }

                var events = await store.ReadEventsAsync(commandId, after, PageSize, ct);
                foreach (var e in events)
                {
                    WriteEvent(response.BodyWriter, e);
                    after = e.Seq;
                }

                if (events.Count > 0)
                {
                    await response.BodyWriter.FlushAsync(ct);
                    lastWrite = Stopwatch.GetTimestamp();
                    metrics.EventsSent(events.Count);
                    if (IsFinalStatus(events[^1]))
                    {
                        return;
                    }

                    if (events.Count == PageSize)
                    {
                        continue;
                    }
                }

                var untilHeartbeat = heartbeat - Stopwatch.GetElapsedTime(lastWrite);
                var heartbeatDue = untilHeartbeat <= wakeUp;
                if (!await waiter.WaitAsync(heartbeatDue ? TimeSpan.FromTicks(Math.Max(0, untilHeartbeat.Ticks)) : wakeUp, ct) && heartbeatDue)
                {
                    Write(response.BodyWriter, ": heartbeat\n\n");
                    await response.BodyWriter.FlushAsync(ct);
                    lastWrite = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested)
        {
            // This replica is shutting down: tell the client to come back (to any replica) with its Last-Event-ID.
            Write(response.BodyWriter, $"retry: {settings.ReconnectMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n");
            await response.BodyWriter.FlushAsync(CancellationToken.None);
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the command goes on.
        }
        finally
        {
            metrics.StreamClosed();
        }
    }

    private static void WriteEvent(IBufferWriter<byte> writer, CommandEvent e)
    {
        Write(writer, $"id: {e.Seq.ToString(CultureInfo.InvariantCulture)}\nevent: {e.Type}\n");
        // Stored data is single-line JSON; splitting on line breaks anyway keeps even a corrupt row inside one event.
        foreach (var line in e.Data.Split('\n'))
        {
            Write(writer, "data: ");
            Write(writer, line.Replace('\r', ' '));
            Write(writer, "\n");
        }

        Write(writer, "\n");
    }

    private static void Write(IBufferWriter<byte> writer, string text) => Encoding.UTF8.GetBytes(text, writer);

    public static bool IsFinalStatus(CommandEvent e)
    {
        if (e.Type != EventTypes.Status)
        {
            return false;
        }

        using var document = JsonDocument.Parse(e.Data);
        return CommandStatuses.IsFinal(document.RootElement.GetProperty("status").GetString() ?? "");
    }
}
