using System.Threading.RateLimiting;

namespace Rdev.Api.RateLimiting;

/// <summary>The shape of one kind of bucket: size, refill rate, and the clock.</summary>
public sealed record BucketSettings(int Limit, int PermitsPerMinute, TimeProvider Time);

/// <summary>
/// A token bucket that refills continuously from a <see cref="TimeProvider"/>. The framework's
/// <c>TokenBucketRateLimiter</c> reads the stopwatch itself and refills on a timer, which makes exact tests and exact
/// <c>Retry-After</c>/<c>RateLimit-Reset</c> values impossible; this one computes its state lazily on each call.
/// No queueing: a request either gets a token now or is rejected with the time until the next one.
/// </summary>
/// <remarks>
/// The level is kept in integer units (one permit = 60 × timestamp frequency units, refilled at PermitsPerMinute
/// units per tick) so that a full minute refills exactly PermitsPerMinute permits, with no rounding drift.
/// </remarks>
public sealed class TokenBucket : RateLimiter
{
    private readonly Lock gate = new();
    private readonly BucketSettings settings;
    private readonly long unitsPerPermit;
    private readonly long capacity;
    private long level;
    private long updatedAt;
    private long? fullSince;
    private long successful;
    private long failed;

    public TokenBucket(BucketSettings settings)
    {
        this.settings = settings;
        unitsPerPermit = 60 * settings.Time.TimestampFrequency;
        capacity = settings.Limit * unitsPerPermit;
        level = capacity;
        updatedAt = settings.Time.GetTimestamp();
        fullSince = updatedAt;
    }

    /// <summary>How long the bucket has been full; the partitioned limiter drops buckets idle for a while.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (gate)
            {
                Refill();
                return fullSince is { } since ? settings.Time.GetElapsedTime(since, updatedAt) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (gate)
        {
            Refill();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = level / unitsPerPermit,
                CurrentQueuedCount = 0,
                TotalSuccessfulLeases = successful,
                TotalFailedLeases = failed,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, settings.Limit);
        lock (gate)
        {
            Refill();
            var needed = Math.Max(permitCount, 1) * unitsPerPermit;
            if (level >= needed)
            {
                level -= permitCount * unitsPerPermit;
                if (permitCount > 0)
                {
                    fullSince = null;
                }

                successful++;
                return new BucketLease(true, settings.Limit, (int)(level / unitsPerPermit), SecondsUntil(capacity), null);
            }

            failed++;
            var retryAfter = TimeSpan.FromSeconds(SecondsUntil(needed));
            return new BucketLease(false, settings.Limit, (int)(level / unitsPerPermit), SecondsUntil(capacity), retryAfter);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = settings.Time.GetTimestamp();
        var elapsed = now - updatedAt;
        if (elapsed <= 0)
        {
            return;
        }

        if (level < capacity)
        {
            var untilFull = TicksUntil(capacity);
            if (elapsed >= untilFull)
            {
                fullSince = updatedAt + untilFull;
                level = capacity;
            }
            else
            {
                level += elapsed * settings.PermitsPerMinute;
            }
        }

        updatedAt = now;
    }

    private long TicksUntil(long targetLevel) =>
        targetLevel <= level ? 0 : (targetLevel - level + settings.PermitsPerMinute - 1) / settings.PermitsPerMinute;

    /// <summary>Whole seconds (rounded up) until the bucket holds <paramref name="targetLevel"/>.</summary>
    private int SecondsUntil(long targetLevel)
    {
        var ticks = TicksUntil(targetLevel);
        return (int)((ticks + settings.Time.TimestampFrequency - 1) / settings.Time.TimestampFrequency);
    }
}

/// <summary>A lease that also says where the bucket stands, for the <c>RateLimit-*</c> headers.</summary>
public sealed class BucketLease(bool acquired, int limit, int remaining, int resetSeconds, TimeSpan? retryAfter) : RateLimitLease
{
    public override bool IsAcquired => acquired;

    public int Limit => limit;

    public int Remaining => remaining;

    public int ResetSeconds => resetSeconds;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
        return metadata is not null;
    }
}
