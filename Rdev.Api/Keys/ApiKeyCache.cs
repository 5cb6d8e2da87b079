using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Rdev.Api.Data;

namespace Rdev.Api.Keys;

/// <summary>
/// Keys by id, so that a request with a known key costs no database round trip. Two things keep it honest across
/// replicas: every creation, revocation and rotation NOTIFYs <see cref="Channel"/> (entries are dropped within
/// milliseconds, and the whole cache after the listener reconnects), and no entry is trusted longer than
/// <see cref="KeyOptions.CacheSeconds"/> (1 s by default), which bounds staleness even while notifications are not
/// arriving.
/// </summary>
/// <remarks>
/// Guessed keys must not cost a database round trip each. The cache also keeps the ids that exist (ids only, read
/// once per listener connection and kept current by the NOTIFYs), so that a request for an id nobody created can be
/// recognised without the database, and a short-lived, size-bounded negative cache of ids the database did not know.
/// </remarks>
public sealed partial class ApiKeyCache : IDisposable
{
    public const string Channel = "rdev_keys";

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> entriesBySpan;
    private readonly ConcurrentDictionary<string, byte> knownIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> knownIdsBySpan;
    private readonly MemoryCache unknownIds;
    private readonly ConcurrentDictionary<Watch, byte> watches = new();
    private readonly ApiKeyStore store;
    private readonly TimeProvider time;
    private readonly ILogger<ApiKeyCache> logger;
    private readonly TimeSpan maxAge;
    private readonly TimeSpan unknownMaxAge;
    private readonly IDisposable subscription;
    private long invalidations;

    public ApiKeyCache(
        ApiKeyStore store, PostgresNotifications notifications, TimeProvider time, IOptions<KeyOptions> options, ILogger<ApiKeyCache> logger)
    {
        this.store = store;
        this.time = time;
        this.logger = logger;
        maxAge = TimeSpan.FromSeconds(options.Value.CacheSeconds);
        unknownMaxAge = TimeSpan.FromSeconds(options.Value.UnknownKeyCacheSeconds);
        unknownIds = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.UnknownKeyCacheSize });
        entriesBySpan = entries.GetAlternateLookup<ReadOnlySpan<char>>();
        knownIdsBySpan = knownIds.GetAlternateLookup<ReadOnlySpan<char>>();
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

    /// <summary>Whether a key with this id is known to exist; such ids are looked up without the per-address limit.</summary>
    public bool IsKnown(ReadOnlySpan<char> id) => entriesBySpan.ContainsKey(id) || knownIdsBySpan.ContainsKey(id);

    /// <summary>Whether the database recently said there is no key with this id.</summary>
    public bool IsKnownUnknown(string id) => unknownIds.TryGetValue(id, out _);

    /// <summary>Reads the key from the database and caches it (revoked and expired ones too: ids are real, so bounded).</summary>
    public async Task<ApiKey?> LoadAsync(string id, CancellationToken ct)
    {
        var before = Interlocked.Read(ref invalidations);
        var loadedAt = time.GetTimestamp();
        var key = await store.FindAsync(id, ct);
        var current = Interlocked.Read(ref invalidations) == before;
        if (key is null)
        {
            entries.TryRemove(id, out _);
            // Not when a NOTIFY (perhaps this id's creation) arrived meanwhile. When the cache is full the entry is
            // simply not added: the per-address limit still bounds what unknown ids cost.
            if (current && unknownMaxAge > TimeSpan.Zero)
            {
                unknownIds.Set(id, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = unknownMaxAge });
            }

            return null;
        }

        knownIds.TryAdd(id, 0);
        // A NOTIFY that arrived while we were reading may describe a newer row than the one we hold: don't cache it.
        if (current)
        {
            entries[id] = new Entry(key, loadedAt);
        }

        return key;
    }

    /// <summary>
    /// Marks a key this replica just created as existing, so its first use is not charged to the client address's
    /// bucket for unknown ids while the creation NOTIFY is still on its way.
    /// </summary>
    public void Remember(string id)
    {
        knownIds.TryAdd(id, 0);
        unknownIds.Remove(id);
    }

    /// <summary>Drops one key on this replica right away (the NOTIFY then reaches the others).</summary>
    public void Evict(string id)
    {
        Interlocked.Increment(ref invalidations);
        entries.TryRemove(id, out _);
        unknownIds.Remove(id);
        NotifyWatches(id);
    }

    /// <summary>
    /// Calls <paramref name="onInvalidated"/> whenever this replica drops key <paramref name="id"/> (revoked, rotated,
    /// or everything after a reconnect); long-lived requests such as streams use it to re-check their key at once.
    /// </summary>
    public IDisposable WatchKey(string id, Action onInvalidated)
    {
        var watch = new Watch(this, id, onInvalidated);
        watches.TryAdd(watch, 0);
        return watch;
    }

    private void NotifyWatches(string? id)
    {
        foreach (var watch in watches.Keys)
        {
            if (id is null || watch.Id == id)
            {
                try
                {
                    watch.OnInvalidated();
                }
                catch (ObjectDisposedException)
                {
                    // The request ended while we were notifying it.
                }
            }
        }
    }

    private void OnNotification(string? payload)
    {
        if (payload is not null)
        {
            // Creations notify too: the id exists from now on, and a cached "unknown" for it must go.
            knownIds.TryAdd(payload, 0);
            Evict(payload);
            return;
        }

        // (Re)connected: whatever was notified while the listener was down is lost, so forget everything.
        Interlocked.Increment(ref invalidations);
        entries.Clear();
        unknownIds.Clear();
        NotifyWatches(null);
        _ = LoadKnownIdsAsync();
    }

    private async Task LoadKnownIdsAsync()
    {
        try
        {
            foreach (var id in await store.ListIdsAsync(CancellationToken.None))
            {
                knownIds.TryAdd(id, 0);
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // Only costs valid keys new to this replica a per-address token on first use; the next reconnect retries.
            LogKnownIdsNotLoaded(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the existing API key ids")]
    private static partial void LogKnownIdsNotLoaded(ILogger logger, Exception exception);

    public void Dispose()
    {
        subscription.Dispose();
        unknownIds.Dispose();
    }

    private sealed record Entry(ApiKey Key, long LoadedAt);

    private sealed class Watch(ApiKeyCache owner, string id, Action onInvalidated) : IDisposable
    {
        public string Id => id;

        public Action OnInvalidated => onInvalidated;

        public void Dispose() => owner.watches.TryRemove(this, out _);
    }
}
