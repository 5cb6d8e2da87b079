using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Rdev.Api.Commands;
using Rdev.Api.Keys;
using Rdev.Api.Sessions;

namespace Rdev.Api.Streaming;

/// <summary>
/// <c>GET /api/v1/events</c> (SPEC section 6): a <c>command</c> event for every command created and every status
/// change, with global ids from Postgres, for the projects the key may see; replays after <c>Last-Event-ID</c>, then
/// live until the client goes away. The commands' own NOTIFY channel wakes it, under <see cref="Guid.Empty"/>.
/// </summary>
public sealed class FeedEventStream(long afterId, string[] keyProjects, string? project) : IResult
{
    private const int PageSize = 100;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var services = httpContext.RequestServices;
        var store = services.GetRequiredService<SessionStore>();
        var hub = services.GetRequiredService<CommandStreamHub>();
        var settings = services.GetRequiredService<IOptions<StreamingOptions>>().Value;
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // A subscription that is never read: its command's NOTIFY (under the empty id) only wakes this stream.
        using var waiter = hub.Subscribe(Guid.Empty);
        using var keyWatch = httpContext.Features.Get<ApiKey>() is { } key
            ? new KeyValidityWatch(services.GetRequiredService<ApiKeyCache>(), services.GetRequiredService<TimeProvider>(),
                key, TimeSpan.FromSeconds(settings.KeyRecheckSeconds), waiter.Signal)
            : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
        var ct = linked.Token;
        var heartbeat = TimeSpan.FromSeconds(Math.Min(settings.HeartbeatSeconds, settings.KeyRecheckSeconds));
        var lastWrite = Stopwatch.GetTimestamp();
        var after = afterId;
        try
        {
            await response.StartAsync(ct);
            while (true)
            {
                if (keyWatch is not null && !await keyWatch.IsStillValidAsync(ct))
                {
                    await WriteAsync(response, ": the API key of this stream was revoked or has expired\n\n", ct);
                    return;
                }

                var events = await store.ReadFeedAsync(after, keyProjects, project, PageSize, ct);
                if (events.Count > 0)
                {
                    var text = new StringBuilder();
                    foreach (var e in events)
                    {
                        var data = JsonSerializer.Serialize(
                            new { id = e.Id, e.Project, e.Kind, e.Status, e.ExitCode, e.KeyId, e.At }, RdevJson.OmitNulls);
                        text.Append(CultureInfo.InvariantCulture, $"id: {e.Seq}\nevent: command\ndata: {data}\n\n");
                        after = e.Seq;
                    }

                    await WriteAsync(response, text.ToString(), ct);
                    lastWrite = Stopwatch.GetTimestamp();
                    if (events.Count == PageSize)
                    {
                        continue;
                    }
                }

                if (!await waiter.WaitAsync(heartbeat, ct) && Stopwatch.GetElapsedTime(lastWrite) >= heartbeat)
                {
                    await WriteAsync(response, ": heartbeat\n\n", ct);
                    lastWrite = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested)
        {
            await WriteAsync(response, $"retry: {settings.ReconnectMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n", CancellationToken.None);
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken ct)
    {
        Encoding.UTF8.GetBytes(text, response.BodyWriter);
        await response.BodyWriter.FlushAsync(ct);
    }
}
