using System.Text.Json;
using Dapper;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>An unfinished command a replica has just taken the lease of, with what it needs to re-attach.</summary>
public sealed record ClaimedCommand(CommandRecord Command, RunTarget? Target, long LastSeq, RunOffsets Offsets, bool CancelRequested);

// Leases: a command belongs to the replica in its runner_id while that replica's heartbeat is fresh. A live replica
// takes over the commands of replicas whose heartbeat went stale, and those released by a replica that shut down.
public sealed partial class CommandStore
{
    public const string ReleasedChannel = "rdev_command_released";

    /// <summary>
    /// Renews this replica's heartbeat, trims the watch-all feed (it keeps at least 7 days, SPEC section 6) and returns
    /// this replica's unfinished commands whose cancel is recorded. The cancel's NOTIFY reaches only a replica that
    /// supervises the command at that moment; one that claimed it just then, or whose listen connection dropped, learns
    /// of the cancel here.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> HeartbeatAsync(string runnerId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cancelled = await connection.QueryAsync<Guid>(new CommandDefinition($"""
            SELECT id FROM commands
            WHERE runner_id = @runnerId AND cancel_requested_at IS NOT NULL AND status IN {CommandStatuses.UnfinishedSql};
            INSERT INTO command_runners (id, host, seen_at) VALUES (@runnerId, @host, now())
            ON CONFLICT (id) DO UPDATE SET seen_at = now();
            DELETE FROM command_runners WHERE seen_at < now() - interval '1 day';
            DELETE FROM command_feed WHERE at < now() - interval '8 days';
            """, new { runnerId, host = Environment.MachineName }, cancellationToken: ct));
        return cancelled.AsList();
    }

    /// <summary>
    /// Takes the lease of every unfinished command that no live replica holds: released ones, those of replicas whose
    /// heartbeat is older than <paramref name="runnerTimeout"/>, and this replica's own created before
    /// <paramref name="createdBefore"/> that it does not supervise (<paramref name="supervised"/>). Row locks give each
    /// command to one replica.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedCommand>> ClaimAsync(
        string runnerId, TimeSpan runnerTimeout, DateTimeOffset createdBefore, IReadOnlyCollection<Guid> supervised, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<ClaimRow>(new CommandDefinition($"""
            UPDATE commands c SET runner_id = @runnerId
            WHERE c.status IN {CommandStatuses.UnfinishedSql}
              AND (c.runner_id IS NULL
                   OR (c.runner_id <> @runnerId AND NOT EXISTS (
                       SELECT 1 FROM command_runners r WHERE r.id = c.runner_id AND r.seen_at > now() - @runnerTimeout))
                   OR (c.runner_id = @runnerId AND c.created_at < @createdBefore AND NOT (c.id = ANY(@supervised))))
            RETURNING {Columns}, last_seq, stdout_offset, stderr_offset, run_target::text AS run_target,
                cancel_requested_at IS NOT NULL AS cancel_requested
            """, new { runnerId, runnerTimeout, createdBefore, supervised = supervised.ToArray() }, cancellationToken: ct));
        return rows.Select(r => r.ToClaim()).ToList();
    }

    /// <summary>Lets go of this replica's commands (it shuts down) and forgets its heartbeat, so others take them at once.</summary>
    public async Task<int> ReleaseAsync(string runnerId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition($"""
            WITH released AS (
                UPDATE commands SET runner_id = NULL WHERE runner_id = @runnerId AND status IN {CommandStatuses.UnfinishedSql} RETURNING id
            ), gone AS (
                DELETE FROM command_runners WHERE id = @runnerId
            )
            SELECT count(*)::int FROM (SELECT pg_notify('rdev_command_released', id::text) FROM released) n;
            """, new { runnerId }, cancellationToken: ct));
    }

    /// <summary>Where commands that finished in the last day ran, one per pod (locally: one), for the run folder sweep.</summary>
    public async Task<IReadOnlyList<RunTarget>> ListRecentTargetsAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var targets = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT ON (run_target->>'Namespace', run_target->>'Pod') run_target::text FROM commands
            WHERE run_target IS NOT NULL AND finished_at > now() - interval '1 day'
            """, cancellationToken: ct));
        return targets.Select(t => JsonSerializer.Deserialize<RunTarget>(t)!).ToList();
    }

    /// <summary>Which of <paramref name="ids"/> are commands that have finished (their run folders can go).</summary>
    public async Task<IReadOnlyList<Guid>> ListFinishedAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var finished = await connection.QueryAsync<Guid>(new CommandDefinition(
            $"SELECT id FROM commands WHERE id = ANY(@ids) AND status NOT IN {CommandStatuses.UnfinishedSql}",
            new { ids = ids.ToArray() }, cancellationToken: ct));
        return finished.AsList();
    }

    /// <summary>
    /// Records the outcome of this replica's commands whose final write was refused, each with a final status event,
    /// unless they finished meanwhile. Returns how many it finished.
    /// </summary>
    public async Task<int> FinishUnsupervisedAsync(
        string runnerId, IReadOnlyList<(Guid Id, CommandOutcome Outcome)> commands, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH outcome AS (
                SELECT * FROM unnest($2::uuid[], $3::text[], $4::integer[], $5::text[], $6::text[]) AS o(id, status, exit_code, error, data)
            ), swept AS (
                UPDATE commands c SET status = o.status, exit_code = o.exit_code, error = o.error, finished_at = now(),
                    last_seq = c.last_seq + 1
                FROM outcome o
                WHERE c.id = o.id AND c.runner_id = $1 AND c.status IN {CommandStatuses.UnfinishedSql}
                RETURNING c.id, c.last_seq, o.data
            ), events AS (
                INSERT INTO command_events (command_id, seq, type, data) SELECT id, last_seq, 'status', data FROM swept
            ), notified AS (
                SELECT pg_notify('rdev_command_events', id::text) FROM swept
            )
            SELECT (SELECT count(*) FROM notified)::int;
            """);
        command.Parameters.Add(new() { Value = runnerId });
        command.Parameters.Add(new() { Value = commands.Select(c => c.Id).ToArray() });
        command.Parameters.Add(new() { Value = commands.Select(c => c.Outcome.Status).ToArray() });
        command.Parameters.Add(new() { Value = commands.Select(c => c.Outcome.ExitCode).ToArray() });
        command.Parameters.Add(new() { Value = commands.Select(c => c.Outcome.Error).ToArray() });
        command.Parameters.Add(new() { Value = commands.Select(c => EventData.Status(c.Outcome.Status, c.Outcome.ExitCode)).ToArray() });
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }

    private sealed record ClaimRow(
        Guid Id, string Project, string Kind, string Args, string Status, int? Exit_Code, DateTime Created_At,
        DateTime? Started_At, DateTime? Finished_At, string Key_Id, int Timeout_Seconds, long Output_Bytes, bool Truncated,
        string? Error, string? Session_Id, decimal? Total_Cost_Usd, int? Num_Turns, string? Result, bool? Is_Error,
        long Last_Seq, long Stdout_Offset, long Stderr_Offset, string? Run_Target, bool Cancel_Requested)
    {
        public ClaimedCommand ToClaim() => new(
            new CommandRow(Id, Project, Kind, Args, Status, Exit_Code, Created_At, Started_At, Finished_At, Key_Id, Timeout_Seconds,
                Output_Bytes, Truncated, Error, Session_Id, Total_Cost_Usd, Num_Turns, Result, Is_Error).ToRecord(),
            Run_Target is null ? null : JsonSerializer.Deserialize<RunTarget>(Run_Target),
            Last_Seq, new RunOffsets(Stdout_Offset, Stderr_Offset), Cancel_Requested);
    }
}
