using Microsoft.Extensions.Options;
using Rdev.Api.Commands;
using Rdev.Api.Data;

namespace Rdev.Api.Streaming;

/// <summary>
/// This replica's streams, grouped per command (SPEC section 6, "Fan-out at scale"): one <see cref="CommandFeed"/> per
/// command that has streams here, fed from memory by the writer on this replica once a batch is committed, and woken by
/// the NOTIFY of any replica's writes. Events are held once, in pages shared by every stream, within one byte bound
/// (<see cref="PageCache"/>), so streams cost memory, not database reads or connections.
/// </summary>
public sealed class CommandStreamHub : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<Guid, CommandFeed> feeds = [];
    private readonly StoredEventPages store;
    private readonly StreamingOptions settings;
    private readonly IDisposable subscription;
    private readonly CancellationTokenSource disposed = new();

    public CommandStreamHub(
        StoredEventPages store, PostgresNotifications notifications, IOptions<StreamingOptions> options, StreamMetrics metrics)
    {
        this.store = store;
        settings = options.Value;
        Cache = new PageCache((long)(settings.CacheMegabytes * 1024 * 1024), metrics);
        subscription = notifications.Subscribe(CommandStore.EventsChannel, OnNotification);
    }

    internal PageCache Cache { get; }

    /// <summary>Registers a stream before its first read, so no wake-up between its read and its wait is lost.</summary>
    public StreamSubscription Subscribe(Guid commandId)
    {
        lock (gate)
        {
            if (!feeds.TryGetValue(commandId, out var feed))
            {
                feed = new CommandFeed(commandId, this);
                feeds[commandId] = feed;
            }

            var subscription = new StreamSubscription(feed, this);
            feed.Add(subscription);
            return subscription;
        }
    }

    /// <summary>
    /// Hands a batch the writer on this replica has just committed to the streams here, from memory. Called after the
    /// commit, so what a live stream sees is already what a replay reads. Costs nothing without streams.
    /// </summary>
    public void Publish(Guid commandId, IReadOnlyList<CommandEvent> events)
    {
        CommandFeed? feed;
        lock (gate)
        {
            feeds.TryGetValue(commandId, out feed);
        }

        if (feed is not null && events.Count > 0)
        {
            feed.Publish(events.Select(StreamEvent.From).ToArray());
        }
    }

    internal Task<StreamEvent[]> ReadPageAsync(Guid commandId, long after) =>
        store.ReadAsync(commandId, after, settings.PageEvents, settings.PageBytes, disposed.Token);

    internal void Evicted(List<StreamPage>? pages)
    {
        foreach (var page in pages ?? [])
        {
            CommandFeed? feed;
            lock (gate)
            {
                feeds.TryGetValue(page.CommandId, out feed);
            }

            feed?.Evict(page);
        }
    }

    internal void Unsubscribe(StreamSubscription subscription)
    {
        lock (gate)
        {
            if (subscription.Feed.Remove(subscription))
            {
                feeds.Remove(subscription.Feed.CommandId);
            }
        }
    }

    private void OnNotification(string? payload)
    {
        CommandFeed[] woken;
        lock (gate)
        {
            // null: the listener reconnected, and any notification may have been missed.
            woken = payload is null ? [.. feeds.Values]
                : Guid.TryParse(payload, out var id) && feeds.TryGetValue(id, out var feed) ? [feed] : [];
        }

        foreach (var feed in woken)
        {
            feed.Notified();
        }
    }

    public void Dispose()
    {
        subscription.Dispose();
        disposed.Cancel();
        disposed.Dispose();
    }
}

/// <summary>One stream's place in its command's feed, with an auto-reset wake-up (kept if nobody waits yet).</summary>
public sealed class StreamSubscription(CommandFeed feed, CommandStreamHub hub) : IDisposable
{
    private readonly SemaphoreSlim signal = new(0, 1);

    internal CommandFeed Feed { get; } = feed;

    public Task<ArraySegment<StreamEvent>> NextAsync(long position, CancellationToken ct) => Feed.NextAsync(position, ct);

    public void Signal()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // The stream has ended.
        }
    }

    /// <summary>True when signalled, false after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => signal.WaitAsync(timeout, ct);

    public void Dispose()
    {
        hub.Unsubscribe(this);
        signal.Dispose();
    }
}
