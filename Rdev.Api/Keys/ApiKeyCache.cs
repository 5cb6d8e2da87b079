using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Rdev.Api.Data;

namespace Rdev.Api.Keys;

/// <summary>
/// Keys by id, so that a request with a known key costs no database round trip. Two things keep it honest across
/// replicas: every revocation NOTIFYs <see cref="Channel"/> (entries are dropped within milliseconds, and the whole
/// cache after the listener reconnects), and no entry is trusted longer than <see cref="KeyOptions.CacheSeconds"/>
/// (1 s by default), which bounds staleness even while notifications are not arriving.
/// </summary>
public sealed class ApiKeyCache : IDisposable
{
    public const string Channel = "rdev_keys";

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> entriesBySpan;
    private readonly ApiKeyStore store;
    private readonly TimeProvider time;
    private readonly TimeSpan maxAge;
    private readonly IDisposable subscription;
    private long invalidations;

    public ApiKeyCache(ApiKeyStore store, PostgresNotifications notifications, TimeProvider time, IOptions<KeyOptions> options)
    {
        this.store = store;
        this.time = time;
        maxAge = TimeSpan.FromSeconds(options.Value.CacheSeconds);
        entriesBySpan = entries.GetAlternateLookup<ReadOnlySpan<char>>();
        subscription = notifications.Subscribe(Channel, OnNotification);
    }

    /// <summary>The cached key when it was loaded recently enough; allocation-free.</summary>
    public bool TryGetFresh(ReadOnlySpan<char> id, out ApiKey key)
    {
        if (entriesBySpan.TryGetValue(id, out var entry) && time.GetElapsedTime(entry.LoadedAt) < maxAge)
        {
            key = entry.Key;
            return true;
        }

        key = null!;
        return false;
    }

    /// <summary>Reads the key from the database and caches it (revoked and expired ones too: ids are real, so bounded).</summary>
    public async Task<ApiKey?> LoadAsync(string id, CancellationToken ct)
    {
        var before = Interlocked.Read(ref invalidations);
        var loadedAt = time.GetTimestamp();
        var key = await store.FindAsync(id, ct);
        if (key is null)
        {
            entries.TryRemove(id, out _);
            return null;
        }

        // A NOTIFY that arrived while we were reading may describe a newer row than the one we hold: don't cache it.
        if (Interlocked.Read(ref invalidations) == before)
        {
            entries[id] = new Entry(key, loadedAt);
        }

        return key;
    }

    /// <summary>Drops one key on this replica right away (the NOTIFY then reaches the others).</summary>
    public void Evict(string id)
    {
        Interlocked.Increment(ref invalidations);
        entries.TryRemove(id, out _);
    }

    private void OnNotification(string? payload)
    {
        if (payload is null)
        {
            // (Re)connected: whatever was notified while the listener was down is lost, so forget everything.
            Interlocked.Increment(ref invalidations);
            entries.Clear();
            return;
        }

        Evict(payload);
    }

    public void Dispose() => subscription.Dispose();

    private sealed record Entry(ApiKey Key, long LoadedAt);
}
