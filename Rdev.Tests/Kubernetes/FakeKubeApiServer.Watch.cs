using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace Rdev.Tests.Kubernetes;

/// <summary>Watch streams and fault switches.</summary>
public sealed partial class FakeKubeApiServer
{
    private readonly ConcurrentDictionary<OpenStream, byte> openWatches = new();
    private readonly Lock faultGate = new();
    private readonly List<Fault> faults = [];
    private int watchesToCloseImmediately;

    /// <summary>
    /// Makes the next <paramref name="count"/> requests whose path starts with <paramref name="pathPrefix"/>
    /// answer <paramref name="statusCode"/> with a Status body. <paramref name="watch"/> narrows it to watch
    /// (true) or non-watch (false) requests. Exec paths fail before the WebSocket upgrade.
    /// </summary>
    public void FailNext(int statusCode, string pathPrefix, int count = 1, bool? watch = null)
    {
        lock (faultGate)
        {
            faults.Add(new Fault(statusCode, pathPrefix, watch) { Remaining = count });
        }
    }

    /// <summary>The next <paramref name="count"/> watches answer 200 and end at once without a single line.</summary>
    public void CloseNextWatches(int count = 1) => Interlocked.Add(ref watchesToCloseImmediately, count);

    /// <summary>Drops every open watch connection mid-stream (TCP reset, no final chunk).</summary>
    public void AbortAllWatches()
    {
        foreach (var watch in openWatches.Keys)
        {
            watch.Context.Abort();
        }
    }

    /// <summary>Ends every open watch cleanly, as the API server does when a watch times out.</summary>
    public void EndAllWatches()
    {
        foreach (var watch in openWatches.Keys)
        {
            watch.End.Cancel();
        }
    }

    private V1Status? TakeFault(string path, bool watch)
    {
        lock (faultGate)
        {
            var fault = faults.FirstOrDefault(f => path.StartsWith(f.PathPrefix, StringComparison.Ordinal) && (f.Watch is null || f.Watch == watch));
            if (fault is null)
            {
                return null;
            }
            if (--fault.Remaining <= 0)
            {
                faults.Remove(fault);
            }
            return KubeStatus.ForCode(fault.StatusCode, $"injected fault for {path}");
        }
    }

    private async Task WatchAsync(HttpContext context, KubeResource resource, string? ns, LabelSelector labels, FieldSelector fields)
    {
        var query = context.Request.Query;
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var sendInitialEvents = IsTrue(query["sendInitialEvents"]);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (TryTakeImmediateClose())
        {
            await context.Response.StartAsync(context.RequestAborted);
            return;
        }

        using var subscription = store.Subscribe(resource, ns, labels, fields, query["resourceVersion"], sendInitialEvents, out var expired);
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        if (subscription is null)
        {
            await WriteLineAsync(context, "ERROR", expired!.ToJson());
            return;
        }

        var stream = new OpenStream(context);
        openWatches[stream] = 0;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, shutdown.Token, stream.End.Token);
        if (int.TryParse(query["timeoutSeconds"], out var timeoutSeconds) && timeoutSeconds > 0)
        {
            ended.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        }
        try
        {
            await StreamEventsAsync(context, subscription, bookmarks, sendInitialEvents ? subscription.Channel.Reader.Count : -1, ended.Token);
        }
        catch (OperationCanceledException)
        {
            // Timeout, EndAllWatches, shutdown or the client went away: the stream just ends.
        }
        finally
        {
            openWatches.TryRemove(stream, out _);
            stream.End.Dispose();
        }
    }

    /// <summary>Writes each event as one line and flushes it; a BOOKMARK goes out whenever the interval passes with nothing pending.</summary>
    private async Task StreamEventsAsync(HttpContext context, WatchSubscription subscription, bool bookmarks, int initialEvents, CancellationToken cancellationToken)
    {
        var reader = subscription.Channel.Reader;
        var nextBookmark = DateTime.UtcNow + (BookmarkInterval ?? Timeout.InfiniteTimeSpan);
        if (initialEvents == 0 && bookmarks)
        {
            await WriteBookmarkAsync(context, subscription, initialEventsEnd: true, cancellationToken);
        }
        while (true)
        {
            while (reader.TryRead(out var item))
            {
                await WriteLineAsync(context, item.Type, KubernetesJson.Serialize(item.Object), cancellationToken);
                if (--initialEvents == 0 && bookmarks)
                {
                    await WriteBookmarkAsync(context, subscription, initialEventsEnd: true, cancellationToken);
                }
            }
            var interval = BookmarkInterval;
            if (!bookmarks || interval is null)
            {
                if (!await reader.WaitToReadAsync(cancellationToken))
                {
                    return;
                }
                continue;
            }
            var wait = nextBookmark - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                waitCts.CancelAfter(wait);
                try
                {
                    if (!await reader.WaitToReadAsync(waitCts.Token))
                    {
                        return;
                    }
                    continue;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The bookmark interval passed.
                }
            }
            if (await WriteBookmarkAsync(context, subscription, initialEventsEnd: false, cancellationToken))
            {
                nextBookmark = DateTime.UtcNow + interval.Value;
            }
        }
    }

    private static async Task<bool> WriteBookmarkAsync(HttpContext context, WatchSubscription subscription, bool initialEventsEnd, CancellationToken cancellationToken)
    {
        if (subscription.BookmarkRevision() is not { } revision)
        {
            return false;
        }
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }
        var bookmark = new JsonObject { ["kind"] = subscription.Resource.Kind, ["apiVersion"] = "v1", ["metadata"] = metadata };
        await WriteLineAsync(context, "BOOKMARK", bookmark.ToJsonString(), cancellationToken);
        return true;
    }

    private static async Task WriteLineAsync(HttpContext context, string type, string objectJson, CancellationToken cancellationToken = default)
    {
        var line = Encoding.UTF8.GetBytes($$"""{"type":"{{type}}","object":{{objectJson}}}""" + "\n");
        await context.Response.Body.WriteAsync(line, cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private bool TryTakeImmediateClose()
    {
        while (true)
        {
            var current = Volatile.Read(ref watchesToCloseImmediately);
            if (current <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref watchesToCloseImmediately, current - 1, current) == current)
            {
                return true;
            }
        }
    }

    private sealed record Fault(int StatusCode, string PathPrefix, bool? Watch)
    {
        public int Remaining { get; set; }
    }

    /// <summary>An open streaming response that the test may end or abort.</summary>
    private sealed class OpenStream(HttpContext context)
    {
        public HttpContext Context { get; } = context;

        public CancellationTokenSource End { get; } = new();
    }
}
