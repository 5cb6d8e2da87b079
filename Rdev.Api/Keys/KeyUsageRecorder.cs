using System.Collections.Concurrent;

namespace Rdev.Api.Keys;

/// <summary>
/// Keeps <c>last_used_at</c> roughly current without a database write per request: each key is noted at most once
/// per <see cref="Resolution"/> on this replica, and the notes are written in one batch every few seconds.
/// </summary>
public sealed partial class KeyUsageRecorder(ApiKeyStore store, TimeProvider time, ILogger<KeyUsageRecorder> logger) : PeriodicFlusher(FlushInterval)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, long> lastNoted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> pending = new(StringComparer.Ordinal);

    public void Record(string keyId)
    {
        var now = time.GetTimestamp();
        if (lastNoted.TryGetValue(keyId, out var last) && time.GetElapsedTime(last, now) < Resolution)
        {
            return;
        }

        lastNoted[keyId] = now;
        pending[keyId] = time.GetUtcNow();
    }

    protected override async Task FlushAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        var times = new List<DateTimeOffset>();
        foreach (var id in pending.Keys)
        {
            if (pending.TryRemove(id, out var at))
            {
                ids.Add(id);
                times.Add(at);
            }
        }

        if (ids.Count == 0)
        {
            return;
        }

        try
        {
            await store.RecordUsageAsync(ids, times, ct);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // Usage times are informational; losing one batch during an outage is acceptable.
            LogRecordFailed(logger, ids.Count, ex);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not record key usage for {Count} keys")]
    private static partial void LogRecordFailed(ILogger logger, int count, Exception exception);
}
