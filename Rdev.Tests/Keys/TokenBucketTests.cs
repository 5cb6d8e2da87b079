using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api.RateLimiting;

namespace Rdev.Tests.Keys;

public sealed class TokenBucketTests
{
    [Fact]
    public void ABucketRefillsContinuouslyAndExactlyToItsLimit()
    {
        var time = new FakeTimeProvider();
        using var bucket = new TokenBucket(new BucketSettings(Limit: 3, PermitsPerMinute: 60, time));

        Assert.True(bucket.AttemptAcquire().IsAcquired);
        Assert.True(bucket.AttemptAcquire().IsAcquired);
        var last = (BucketLease)bucket.AttemptAcquire();
        Assert.True(last.IsAcquired);
        Assert.Equal(0, last.Remaining);
        Assert.Equal(3, last.ResetSeconds);

        var refused = bucket.AttemptAcquire();
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(bucket.AttemptAcquire().IsAcquired);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.AttemptAcquire().IsAcquired);

        // Never more than the limit, however long it rests.
        time.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(3, bucket.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(TimeSpan.FromDays(3650) - TimeSpan.FromSeconds(3), bucket.IdleDuration);
    }

    [Fact]
    public void ABucketThatIsNotFullIsNotIdle()
    {
        var time = new FakeTimeProvider();
        using var bucket = new TokenBucket(new BucketSettings(Limit: 100, PermitsPerMinute: 100, time));
        Assert.Equal(TimeSpan.Zero, bucket.IdleDuration);
        bucket.AttemptAcquire();
        Assert.Null(bucket.IdleDuration);
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.Zero, bucket.IdleDuration);
    }
}
