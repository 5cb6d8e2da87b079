namespace Rdev.Api.Streaming;

/// <summary>
/// The pages this replica keeps for streams, least recently used first out, bounded in bytes across all commands.
/// A stream whose page was evicted reads it again (a catch-up read); it never makes the cache grow past its bound.
/// </summary>
public sealed class PageCache(long maxBytes, StreamMetrics metrics)
{
    private readonly Lock gate = new();
    private readonly LinkedList<StreamPage> order = new();
    private long bytes;

    /// <summary>Adds <paramref name="page"/>; returns the pages evicted to make room, for their feeds to drop.</summary>
    public List<StreamPage> Add(StreamPage page)
    {
        var evicted = new List<StreamPage>();
        lock (gate)
        {
            page.CacheNode = order.AddLast(page);
            bytes += page.Bytes;
            metrics.Cached(page.Bytes);
            while (bytes > maxBytes && order.First is { } oldest)
            {
                RemoveLocked(oldest.Value);
                evicted.Add(oldest.Value);
            }
        }

        return evicted;
    }

    public void Touch(StreamPage page)
    {
        lock (gate)
        {
            if (page.CacheNode is { } node)
            {
                order.Remove(node);
                order.AddLast(node);
            }
        }
    }

    public void Remove(StreamPage page)
    {
        lock (gate)
        {
            RemoveLocked(page);
        }
    }

    private void RemoveLocked(StreamPage page)
    {
        if (page.CacheNode is { } node)
        {
            order.Remove(node);
            page.CacheNode = null;
            bytes -= page.Bytes;
            metrics.Cached(-page.Bytes);
        }
    }
}
