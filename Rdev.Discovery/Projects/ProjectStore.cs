using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Rdev.Discovery.Projects;

/// <summary>
/// Writes discovery's desired set into <c>projects</c> in one transaction: rows in the set are inserted or updated (a
/// <c>gone</c> row that is back is revived) and rows that left become <c>gone</c>; when anything changed, a NOTIFY on
/// <see cref="Channel"/> naming the changed rows wakes every API replica once the transaction commits. A full write
/// marks every row outside the set gone; a delta write (only what changed since the last successful write) touches
/// only the rows it names, which keeps each event's write small when there are hundreds of projects.
/// </summary>
public sealed class ProjectStore(NpgsqlDataSource dataSource)
{
    public const string Channel = NotifyChannels.Projects;

    // NOTIFY payloads are limited to 8000 bytes; past this the API is told "*" and reloads everything anyway.
    private const int MaxPayloadBytes = 7000;

    // Two discovery replicas (a rollout) take turns instead of interleaving their writes.
    private const long WriterLockKey = 0x7264_6576_7072_6a;

    private static readonly JsonSerializerOptions Json = RdevJson.Options;

    private const string UpsertSql = """
        WITH desired AS (
            SELECT * FROM jsonb_to_recordset(@projects) AS d(
                name text, status text, description text, runtime text, namespace text, pod_name text,
                container text, workspace text, allowed_commands text[], max_concurrent_commands integer, runnable boolean)
        ),
        upserted AS (
            INSERT INTO projects AS p (name, status, description, runtime, namespace, pod_name, container, workspace,
                                       allowed_commands, max_concurrent_commands, runnable, updated_at)
            SELECT name, status, description, runtime, namespace, pod_name, container, workspace,
                   allowed_commands, max_concurrent_commands, runnable, now()
            FROM desired
            ON CONFLICT (name) DO UPDATE SET
                status = EXCLUDED.status, description = EXCLUDED.description, runtime = EXCLUDED.runtime,
                namespace = EXCLUDED.namespace, pod_name = EXCLUDED.pod_name, container = EXCLUDED.container,
                workspace = EXCLUDED.workspace, allowed_commands = EXCLUDED.allowed_commands,
                max_concurrent_commands = EXCLUDED.max_concurrent_commands, runnable = EXCLUDED.runnable,
                updated_at = now()
            WHERE (p.status, p.description, p.runtime, p.namespace, p.pod_name, p.container, p.workspace,
                   p.allowed_commands, p.max_concurrent_commands, p.runnable)
                IS DISTINCT FROM
                  (EXCLUDED.status, EXCLUDED.description, EXCLUDED.runtime, EXCLUDED.namespace, EXCLUDED.pod_name,
                   EXCLUDED.container, EXCLUDED.workspace, EXCLUDED.allowed_commands, EXCLUDED.max_concurrent_commands,
                   EXCLUDED.runnable)
            RETURNING name
        ),
        departed AS (
            UPDATE projects SET status = 'gone', runnable = false, updated_at = now()
            WHERE status <> 'gone'
              AND ((@full AND name NOT IN (SELECT name FROM desired)) OR name = ANY(@removed))
            RETURNING name
        ),
        changed AS (
            SELECT string_agg(name, ',' ORDER BY name) AS names FROM (SELECT name FROM upserted UNION ALL SELECT name FROM departed) c
        )
        -- NOTIFY is delivered by Postgres when the transaction commits, never before.
        SELECT names, CASE WHEN names IS NOT NULL
                           THEN pg_notify(@channel, CASE WHEN octet_length(names) <= @max_payload THEN names ELSE '*' END)
                      END
        FROM changed
        """;

    /// <summary>Writes the complete set and returns the names of the rows that changed.</summary>
    public Task<IReadOnlyList<string>> WriteAllAsync(IReadOnlyList<DiscoveredProject> projects, CancellationToken cancellationToken) =>
        WriteAsync(projects, removed: [], full: true, cancellationToken);

    /// <summary>Writes only <paramref name="upserts"/> and marks <paramref name="removed"/> gone; returns the names that changed.</summary>
    public Task<IReadOnlyList<string>> WriteChangesAsync(
        IReadOnlyList<DiscoveredProject> upserts, IReadOnlyList<string> removed, CancellationToken cancellationToken) =>
        WriteAsync(upserts, removed, full: false, cancellationToken);

    private async Task<IReadOnlyList<string>> WriteAsync(
        IReadOnlyList<DiscoveredProject> projects, IReadOnlyList<string> removed, bool full, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // One round trip for all three, plus the commit. The rows are derived from the cluster and rewritten after any
        // loss, so the commit need not wait for the WAL flush.
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"),
                new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({WriterLockKey})"),
                new NpgsqlBatchCommand(UpsertSql)
                {
                    Parameters =
                    {
                        new NpgsqlParameter("projects", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(projects, Json) },
                        new NpgsqlParameter("full", full),
                        new NpgsqlParameter("removed", removed.ToArray()),
                        new NpgsqlParameter("channel", Channel),
                        new NpgsqlParameter("max_payload", MaxPayloadBytes),
                    },
                },
            },
        };

        string? names = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            do
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (reader.FieldCount == 2 && !reader.IsDBNull(0))
                    {
                        names = reader.GetString(0);
                    }
                }
            }
            while (await reader.NextResultAsync(cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return names is null ? [] : names.Split(',');
    }
}
