using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Npgsql;
using Rdev.Api.Keys;

namespace Rdev.Api.Audit;

/// <summary>
/// Authentication failures, counted in memory per source address and minute and written as one upserted
/// <c>audit_log</c> row per (address, minute), so a flood of bad keys costs a few rows, not one per request.
/// At most <see cref="MaxSourcesPerFlush"/> addresses are tracked between flushes; the rest are counted together
/// under a NULL address.
/// </summary>
public sealed partial class AuthFailureAudit(NpgsqlDataSource dataSource, TimeProvider time, ILogger<AuthFailureAudit> logger)
    : PeriodicFlusher(FlushInterval)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int MaxSourcesPerFlush = 10_000;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);
    private static readonly int ReasonCount = Enum.GetValues<AuthFailureReason>().Length;

    private readonly ConcurrentDictionary<(DateTimeOffset Window, IPAddress? Source), long[]> counts = new();

    public void Record(IPAddress? source, AuthFailureReason reason)
    {
        var now = time.GetUtcNow();
        var window = new DateTimeOffset(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);
        source = AuditLog.Normalize(source);
        if (counts.Count >= MaxSourcesPerFlush && !counts.ContainsKey((window, source)))
        {
            source = null;
        }

        var perReason = counts.GetOrAdd((window, source), _ => new long[ReasonCount]);
        Interlocked.Increment(ref perReason[(int)reason]);
    }

    protected override async Task FlushAsync(CancellationToken ct)
    {
        // Take each counter with an exchange, so an increment racing with the flush is written now or next time.
        var rows = new List<(DateTimeOffset Window, string? Source, Dictionary<string, long> Reasons)>();
        var stale = time.GetUtcNow() - 2 * Window;
        foreach (var (key, perReason) in counts)
        {
            var reasons = new Dictionary<string, long>();
            for (var i = 0; i < perReason.Length; i++)
            {
                var taken = Interlocked.Exchange(ref perReason[i], 0);
                if (taken > 0)
                {
                    reasons[KeyMetrics.ReasonLabel((AuthFailureReason)i)] = taken;
                }
            }

            if (reasons.Count > 0)
            {
                rows.Add((key.Window, key.Source?.ToString(), reasons));
            }

            if (key.Window < stale)
            {
                counts.TryRemove(key, out _);
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        try
        {
            await using var command = dataSource.CreateCommand(
                $"""
                INSERT INTO audit_log (at, action, source_ip, details, count)
                SELECT u.at, '{AuditLog.AuthenticationFailed}', u.ip::inet, u.details, u.count
                FROM unnest($1::timestamptz[], $2::text[], $3::jsonb[], $4::integer[]) AS u(at, ip, details, count)
                ON CONFLICT (action, source_ip, at) WHERE action = '{AuditLog.AuthenticationFailed}'
                DO UPDATE SET
                    count = audit_log.count + EXCLUDED.count,
                    details = (
                        SELECT jsonb_object_agg(k, coalesce((audit_log.details ->> k)::bigint, 0) + coalesce((EXCLUDED.details ->> k)::bigint, 0))
                        FROM (SELECT jsonb_object_keys(audit_log.details) UNION SELECT jsonb_object_keys(EXCLUDED.details)) AS keys(k))
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Window).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Source).ToArray() });
            command.Parameters.Add(new NpgsqlParameter
            {
                Value = rows.Select(r => JsonSerializer.Serialize(r.Reasons)).ToArray(),
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb,
            });
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => (int)Math.Min(int.MaxValue, r.Reasons.Values.Sum())).ToArray() });
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            LogWriteFailed(logger, rows.Count, ex);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not write {Count} aggregated authentication-failure audit rows")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception exception);
}
