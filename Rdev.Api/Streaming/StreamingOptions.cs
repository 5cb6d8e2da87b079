using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Streaming;

/// <summary><c>Rdev:Streaming</c>.</summary>
public sealed class StreamingOptions
{
    public const string SectionName = "Rdev:Streaming";

    /// <summary>A comment line is sent when nothing else was for this long (SPEC: at most 15 s).</summary>
    [Range(0.05, 15)]
    public double HeartbeatSeconds { get; set; } = 15;

    /// <summary>The <c>retry:</c> sent to clients when this replica shuts down.</summary>
    [Range(0, 60000)]
    public int ReconnectMilliseconds { get; set; } = 1000;

    /// <summary>
    /// How often an open stream re-reads its API key (through the key cache). Revocation normally ends streams at
    /// once through the rdev_keys NOTIFY; this bounds it when notifications are not arriving, and bounds expiry.
    /// </summary>
    [Range(0.05, 300)]
    public double KeyRecheckSeconds { get; set; } = 5;

    /// <summary>At most this many events in one page read from PostgreSQL.</summary>
    [Range(1, 10000)]
    public int PageEvents { get; set; } = 256;

    /// <summary>
    /// At most this many bytes in one page read from PostgreSQL (an event larger than this is a page of its own). Bounds
    /// what one read holds in memory whatever the output looks like.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int PageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How much of the events this replica holds in memory for its streams, all commands together (least recently used
    /// pages go first; a stream that needs one again reads it from PostgreSQL).
    /// </summary>
    [Range(0, 1024 * 1024)]
    public double CacheMegabytes { get; set; } = 64;

    /// <summary>
    /// A client that has not taken any of what was written to it for this long is disconnected; its EventSource comes
    /// back with Last-Event-ID. A merely slow client is never buffered for: it reads older pages again.
    /// </summary>
    [Range(0.1, 3600)]
    public double StalledClientSeconds { get; set; } = 60;
}
