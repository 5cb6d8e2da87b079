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
}
