using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Keys;

/// <summary>The <c>Rdev:Keys</c> configuration section.</summary>
public sealed class KeyOptions
{
    public const string SectionName = "Rdev:Keys";

    /// <summary>
    /// How long a verified key is trusted from memory before it is read again. Revocation reaches other replicas by
    /// NOTIFY at once; this bound is what holds if notifications stop. Above 1 s, revocation may take that long.
    /// </summary>
    [Range(0, 3600)]
    public double CacheSeconds { get; set; } = 1;

    /// <summary>
    /// How long an id the database did not know is answered 401 from memory. Key creation NOTIFYs every replica, so a
    /// new key works at once however long this is; it bounds staleness only while notifications are not arriving.
    /// </summary>
    [Range(0, 3600)]
    public double UnknownKeyCacheSeconds { get; set; } = 10;

    /// <summary>At most this many unknown ids are remembered; beyond it they are not cached (memory stays bounded).</summary>
    [Range(1, 10_000_000)]
    public int UnknownKeyCacheSize { get; set; } = 10_000;
}
