using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rdev.Api.Commands;

namespace Rdev.Api.Streaming;

/// <summary>
/// What the stream hub costs (meter <c>Rdev.Api</c>): reads of stored events, the bytes it holds for streams, and why
/// streams ended. With the hub, reads grow with commands and pages, not with subscribers (docs/architecture.md).
/// </summary>
public sealed class StreamMetrics
{
    private readonly Counter<long> reads;
    private readonly Counter<long> readBytes;
    private readonly Counter<long> closed;
    private long cachedBytes;

    public StreamMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(CommandMetrics.MeterName);
        reads = meter.CreateCounter<long>("rdev_sse_store_reads_total",
            description: "Pages of stored events read from PostgreSQL for SSE streams on this replica.");
        readBytes = meter.CreateCounter<long>("rdev_sse_store_read_bytes_total", unit: "By",
            description: "Bytes of SSE frames read from PostgreSQL for streams on this replica.");
        closed = meter.CreateCounter<long>("rdev_sse_streams_closed_total",
            description: "SSE streams ended by this replica, by reason (complete, client_gone, shutdown, key_revoked, stalled, database_error).");
        meter.CreateObservableGauge("rdev_sse_cache_bytes", () => Interlocked.Read(ref cachedBytes), unit: "By",
            description: "Bytes of events this replica holds in memory for streams (shared pages; bounded by Rdev:Streaming:CacheMegabytes).");
    }

    public void StoreRead(long bytes)
    {
        reads.Add(1);
        readBytes.Add(bytes);
    }

    public void Cached(long bytes) => Interlocked.Add(ref cachedBytes, bytes);

    public void Closed(string reason) => closed.Add(1, new TagList { { "reason", reason } });
}
