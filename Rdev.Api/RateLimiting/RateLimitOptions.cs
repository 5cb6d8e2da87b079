using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.RateLimiting;

/// <summary>The <c>Rdev:RateLimit</c> configuration section.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Rdev:RateLimit";

    /// <summary>Refill rate of each key's bucket.</summary>
    [Range(1, 10_000_000)]
    public int PermitsPerMinute { get; set; } = 100;

    /// <summary>Size of each key's bucket: how many requests may come at once after a quiet spell.</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 100;

    /// <summary>Refill rate of the bucket per client address for requests without a valid key.</summary>
    [Range(1, 10_000_000)]
    public int UnauthenticatedPermitsPerMinute { get; set; } = 60;

    [Range(1, 10_000_000)]
    public int UnauthenticatedBurst { get; set; } = 60;
}
