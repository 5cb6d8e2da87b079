using System.Security.Cryptography;
using Npgsql;

namespace Rdev.Api.Keys;

/// <summary>
/// Keeps asking whether the key behind a long-lived request (a stream) is still good, so that revoking a key ends
/// its open streams on every replica (SPEC section 5). The rdev_keys NOTIFY that evicts the key wakes the request at
/// once through <c>wake</c>; expiry is checked on every call; and every <c>recheckInterval</c> the key is read again
/// through the cache, which is the fallback when notifications are not arriving.
/// </summary>
public sealed class KeyValidityWatch : IDisposable
{
    private readonly ApiKeyCache cache;
    private readonly TimeProvider time;
    private readonly ApiKey key;
    private readonly TimeSpan recheckInterval;
    private readonly IDisposable watch;
    private long lastCheck;
    private int invalidated;

    public KeyValidityWatch(ApiKeyCache cache, TimeProvider time, ApiKey key, TimeSpan recheckInterval, Action wake)
    {
        this.cache = cache;
        this.time = time;
        this.key = key;
        this.recheckInterval = recheckInterval;
        lastCheck = time.GetTimestamp();
        watch = cache.WatchKey(key.Id, () =>
        {
            Interlocked.Exchange(ref invalidated, 1);
            wake();
        });
    }

    /// <summary>False once the key is revoked, expired or rotated; cheap unless a re-check is due.</summary>
    public async ValueTask<bool> IsStillValidAsync(CancellationToken ct)
    {
        if (key.IsExpiredAt(time.GetUtcNow()))
        {
            return false;
        }

        var now = time.GetTimestamp();
        if (Interlocked.Exchange(ref invalidated, 0) == 0 && time.GetElapsedTime(lastCheck, now) < recheckInterval)
        {
            return true;
        }

        lastCheck = now;
        if (!cache.TryGetFresh(key.Id, out var current))
        {
            try
            {
                current = (await cache.LoadAsync(key.Id, ct))!;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // Cannot tell now; the stream's own reads meet the same outage, and the next check tries again.
                return true;
            }
        }

        return current is not null && current.RevokedAt is null && !current.IsExpiredAt(time.GetUtcNow())
            && CryptographicOperations.FixedTimeEquals(current.SecretHash, key.SecretHash);
    }

    public void Dispose() => watch.Dispose();
}
