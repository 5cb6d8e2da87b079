namespace Rdev.Api.Streaming;

/// <summary>
/// The one reader of a command's stored events on this replica, shared by all its streams here. A stream asks for the
/// events after its position; the answer is a cached page when one covers it (published by the writer on this
/// replica, or read for another stream at the same position), else one read that every stream at that position awaits.
/// A NOTIFY from any replica wakes the streams, which then share one read at the head.
/// </summary>
public sealed class CommandFeed(Guid commandId, CommandStreamHub hub)
{
    private const int MaxPages = 4096;
    private readonly Lock gate = new();
    // Keyed by the position a page follows. Pages may overlap; any of them is a true answer, events never change.
    private readonly SortedList<long, StreamPage> pages = [];
    private readonly Dictionary<long, Task<StreamPage?>> reads = [];
    // Positions where a read found nothing, with the notification version it saw: no new read until a NOTIFY.
    private readonly Dictionary<long, long> emptyAt = [];
    private readonly List<StreamSubscription> subscribers = [];
    private long version;
    private bool closed;

    public Guid CommandId { get; } = commandId;

    internal int Subscribers => subscribers.Count;

    /// <summary>The events after <paramref name="position"/>; empty when there are none yet (then wait for a signal).</summary>
    public async Task<ArraySegment<StreamEvent>> NextAsync(long position, CancellationToken ct)
    {
        Task<StreamPage?> read;
        lock (gate)
        {
            if (FindLocked(position) is { } page)
            {
                hub.Cache.Touch(page);
                return page.From(position);
            }

            if (emptyAt.TryGetValue(position, out var seen) && seen == version)
            {
                return ArraySegment<StreamEvent>.Empty;
            }

            if (!reads.TryGetValue(position, out read!))
            {
                read = ReadAsync(position, version);
                reads[position] = read;
            }
        }

        // The read is shared: one stream going away must not cancel it for the others.
        var result = await read.WaitAsync(ct);
        return result?.From(position) ?? ArraySegment<StreamEvent>.Empty;
    }

    /// <summary>Events the writer on this replica has just committed.</summary>
    internal void Publish(StreamEvent[] events)
    {
        Keep(new StreamPage(CommandId, events[0].Seq - 1, events));
        Signal();
    }

    /// <summary>A NOTIFY for this command (or a reconnect of the listener): anything may have been stored since.</summary>
    internal void Notified()
    {
        lock (gate)
        {
            version++;
            emptyAt.Clear();
        }

        Signal();
    }

    internal void Add(StreamSubscription subscription)
    {
        lock (gate)
        {
            subscribers.Add(subscription);
        }
    }

    /// <summary>Removes a stream; true when it was the last, and the feed is then closed and its pages dropped.</summary>
    internal bool Remove(StreamSubscription subscription)
    {
        lock (gate)
        {
            subscribers.Remove(subscription);
            if (subscribers.Count > 0)
            {
                return false;
            }

            closed = true;
            foreach (var page in pages.Values)
            {
                hub.Cache.Remove(page);
            }

            pages.Clear();
            return true;
        }
    }

    internal void Evict(StreamPage page)
    {
        lock (gate)
        {
            if (pages.TryGetValue(page.After, out var current) && ReferenceEquals(current, page))
            {
                pages.Remove(page.After);
            }
        }
    }

    private async Task<StreamPage?> ReadAsync(long position, long startVersion)
    {
        // Never completes inside the caller's lock, so the caller registers the read before it can finish.
        await Task.Yield();
        try
        {
            var events = await hub.ReadPageAsync(CommandId, position);
            if (events.Length == 0)
            {
                lock (gate)
                {
                    reads.Remove(position);
                    if (version == startVersion)
                    {
                        emptyAt[position] = startVersion;
                    }
                }

                return null;
            }

            var page = new StreamPage(CommandId, position, events);
            Keep(page, position);
            return page;
        }
        catch
        {
            lock (gate)
            {
                reads.Remove(position);
            }

            throw;
        }
    }

    private void Keep(StreamPage page, long? readAt = null)
    {
        List<StreamPage>? evicted = null;
        lock (gate)
        {
            if (readAt is { } position)
            {
                reads.Remove(position);
            }

            if (!closed && !pages.ContainsKey(page.After))
            {
                pages[page.After] = page;
                evicted = hub.Cache.Add(page);
                // A command that prints a line at a time makes a page per line: keep the oldest from piling up here.
                if (pages.Count > MaxPages)
                {
                    hub.Cache.Remove(pages.Values[0]);
                    pages.RemoveAt(0);
                }
            }
        }

        hub.Evicted(evicted);
    }

    private void Signal()
    {
        StreamSubscription[] waiting;
        lock (gate)
        {
            waiting = [.. subscribers];
        }

        foreach (var subscriber in waiting)
        {
            subscriber.Signal();
        }
    }

    /// <summary>A cached page holding the event right after <paramref name="position"/>.</summary>
    private StreamPage? FindLocked(long position)
    {
        if (pages.TryGetValue(position, out var exact))
        {
            return exact;
        }

        // The page that starts closest before the position, if it reaches past it.
        var keys = pages.Keys;
        int low = 0, high = keys.Count - 1, floor = -1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (keys[middle] < position)
            {
                floor = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return floor >= 0 && pages.Values[floor].Last > position ? pages.Values[floor] : null;
    }
}
