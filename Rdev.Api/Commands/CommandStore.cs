using System.Text.Json.Nodes;
using Dapper;
using System.Net;
using Npgsql;
using System.Text.Json;
using Rdev.Api.Audit;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>The process group of a command that a batch marks running (its first batch after start or takeover).</summary>
public sealed record RunnerStart(string Handle);

/// <summary>How a command ended, as its record will say.</summary>
public sealed record CommandOutcome(string Status, int? ExitCode, string? Error);

/// <summary>
/// Commands and their events in Postgres: the durable record every replica reads from. Writes about a running command
/// (<see cref="AppendEventsAsync"/>, <see cref="FinishAsync"/>) are fenced by its lease: they change nothing unless
/// the writing replica still holds it (see CommandStore.Leases.cs).
/// </summary>
public sealed partial class CommandStore(NpgsqlDataSource dataSource, AuditLog audit)
{
    public const string EventsChannel = "rdev_command_events";
    public const string CancelChannel = "rdev_command_cancel";
    public const string CommandRequested = "command.requested";
    public const string CommandRejected = "command.rejected";

    private const string Columns = """
        id, project, kind, args::text AS args, status, exit_code, created_at, started_at, finished_at, key_id,
        timeout_seconds, output_bytes, truncated, error, session_id, total_cost_usd, num_turns, result, is_error
        """;

    /// <summary>
    /// Inserts a queued command unless the project already has <paramref name="maxConcurrent"/> unfinished ones.
    /// The check and the insert hold a per-project transaction lock, so replicas cannot both take the last slot.
    /// The request is audited either way (key, project, kind, args; never output), in the same transaction.
    /// </summary>
    public async Task<CommandRecord?> CreateAsync(
        CommandRecord command, int maxConcurrent, string runnerId, IPAddress? clientIp, CancellationToken ct, RunTarget? target = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtext('rdev.commands:' || @project))",
            new { project = command.Project }, transaction, cancellationToken: ct));
        var unfinished = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM commands WHERE project = @project AND status IN {CommandStatuses.UnfinishedSql}",
            new { project = command.Project }, transaction, cancellationToken: ct));
        var accepted = unfinished < maxConcurrent;
        await audit.WriteAsync(connection, accepted ? CommandRequested : CommandRejected, command.KeyId, command.Project, clientIp,
            new { command_id = command.Id, command.Kind, command.Args, reason = accepted ? null : "COMMAND_LIMIT_REACHED" }, ct);
        if (!accepted)
        {
            await transaction.CommitAsync(ct);
            return null;
        }

        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO commands (id, project, kind, args, status, key_id, created_at, timeout_seconds, last_seq, runner_id, run_target)
            VALUES (@Id, @Project, @Kind, @Args::jsonb, @Status, @KeyId, @CreatedAt, @TimeoutSeconds, 1, @runnerId, @runTarget::jsonb);
            INSERT INTO command_events (command_id, seq, type, data) VALUES (@Id, 1, 'status', @StatusData);
            SELECT pg_notify('rdev_command_events', @Id::text);
            """,
            new
            {
                command.Id, command.Project, command.Kind, Args = command.Args.ToJsonString(), command.Status,
                command.KeyId, command.CreatedAt, command.TimeoutSeconds, runnerId,
                runTarget = target is null ? null : JsonSerializer.Serialize(target),
                StatusData = EventData.Status(command.Status, null),
            }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return command;
    }

    public async Task<CommandRecord?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<CommandRow>(new CommandDefinition(
            $"SELECT {Columns} FROM commands WHERE id = @id", new { id }, cancellationToken: ct));
        return row?.ToRecord();
    }

    /// <summary>Newest first; <paramref name="before"/> is the last id of the previous page (ids are UUIDv7).</summary>
    public async Task<IReadOnlyList<CommandRecord>> ListAsync(string project, Guid? before, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<CommandRow>(new CommandDefinition($"""
            SELECT {Columns} FROM commands
            WHERE project = @project AND (@before::uuid IS NULL OR id < @before)
            ORDER BY id DESC LIMIT @limit
            """, new { project, before, limit }, cancellationToken: ct));
        return rows.Select(row => row.ToRecord()).ToList();
    }

    /// <summary>
    /// Appends a batch of events in one statement (one transaction) and moves the command's counters and stream
    /// offsets with them, if <paramref name="runnerId"/> still holds the command's lease. With <paramref name="started"/>
    /// the batch also marks the command running. False: another replica holds it now, nothing was written.
    /// </summary>
    public async Task<bool> AppendEventsAsync(
        Guid id, string runnerId, IReadOnlyList<CommandEvent> events, long outputBytes, bool truncated, RunOffsets offsets,
        RunnerStart? started, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        var command = new NpgsqlBatchCommand($"""
            WITH owned AS (
                UPDATE commands SET last_seq = greatest(last_seq, $3), output_bytes = $4, truncated = $5, stdout_offset = $6,
                    stderr_offset = $7, status = CASE WHEN $8 THEN 'running' ELSE status END,
                    started_at = CASE WHEN $8 THEN coalesce(started_at, now()) ELSE started_at END,
                    process_handle = coalesce($9, process_handle)
                WHERE id = $1 AND runner_id = $2 AND status IN {CommandStatuses.UnfinishedSql}
                RETURNING id
            ), inserted AS (
                INSERT INTO command_events (command_id, seq, type, data)
                SELECT $1, e.seq, e.type, e.data FROM unnest($10::bigint[], $11::text[], $12::text[]) AS e(seq, type, data)
                WHERE EXISTS (SELECT 1 FROM owned)
            )
            SELECT count(*)::int FROM (SELECT pg_notify('rdev_command_events', id::text) FROM owned) n;
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = runnerId });
        command.Parameters.Add(new() { Value = events.Count > 0 ? events[^1].Seq : 0L });
        command.Parameters.Add(new() { Value = outputBytes });
        command.Parameters.Add(new() { Value = truncated });
        command.Parameters.Add(new() { Value = offsets.Stdout });
        command.Parameters.Add(new() { Value = offsets.Stderr });
        command.Parameters.Add(new() { Value = started is not null });
        command.Parameters.Add(new() { Value = (object?)started?.Handle ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = events.Select(e => e.Seq).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Type).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Data).ToArray() });
        batch.BatchCommands.Add(command);
        // Claude sessions (issue 14): live status changes inside the run (waiting for a person, working again), each
        // one, so that the watch-all feed's trigger sees every state even when two land in one batch.
        foreach (var status in EventData.Statuses(events).Skip(started is null ? 0 : 1))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                $"UPDATE commands SET status = $3 WHERE id = $1 AND runner_id = $2 AND status IN {CommandStatuses.UnfinishedSql}")
            {
                Parameters = { new() { Value = id }, new() { Value = runnerId }, new() { Value = status } },
            });
        }

        // One implicit transaction; the scalar is the first statement's (the lease check).
        return (int)(await batch.ExecuteScalarAsync(ct))! > 0;
    }

    /// <summary>
    /// Records the final status (as the last event) and the outcome fields, if <paramref name="runnerId"/> still holds
    /// the lease. False: another replica holds it now (and records the outcome itself).
    /// </summary>
    public async Task<bool> FinishAsync(
        Guid id, string runnerId, long seq, CommandOutcome outcome, long outputBytes, bool truncated, ClaudeOutcome? claude,
        CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition($"""
            WITH done AS (
                UPDATE commands SET status = @Status, exit_code = @ExitCode, finished_at = now(), last_seq = @seq, error = @Error,
                    output_bytes = @outputBytes, truncated = @truncated, session_id = coalesce(@SessionId, session_id),
                    total_cost_usd = coalesce(@TotalCostUsd, total_cost_usd), num_turns = coalesce(@NumTurns, num_turns),
                    result = coalesce(@Result, result), is_error = coalesce(@IsError, is_error)
                WHERE id = @id AND runner_id = @runnerId AND status IN {CommandStatuses.UnfinishedSql}
                RETURNING id
            ), final AS (
                INSERT INTO command_events (command_id, seq, type, data) SELECT id, @seq, 'status', @data FROM done
            )
            SELECT count(*)::int FROM (SELECT pg_notify('rdev_command_events', id::text) FROM done) n;
            """, new
            {
                id, runnerId, seq, outcome.Status, outcome.ExitCode, outcome.Error, outputBytes, truncated,
                claude?.SessionId, claude?.TotalCostUsd, claude?.NumTurns, claude?.Result, claude?.IsError,
                data = EventData.Status(outcome.Status, outcome.ExitCode),
            }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<CommandEvent>> ReadEventsAsync(Guid id, long afterSeq, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<CommandEvent>(new CommandDefinition("""
            SELECT seq AS Seq, type AS Type, data AS Data FROM command_events
            WHERE command_id = @id AND seq > @afterSeq ORDER BY seq LIMIT @limit
            """, new { id, afterSeq, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>Records the cancel (so a replica that takes the command over later honours it) and tells every replica.</summary>
    public async Task RequestCancelAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE commands SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = @id;
            SELECT pg_notify('rdev_command_cancel', @id::text);
            """, new { id }, cancellationToken: ct));
    }

    private sealed record CommandRow(
        Guid Id, string Project, string Kind, string Args, string Status, int? Exit_Code, DateTime Created_At,
        DateTime? Started_At, DateTime? Finished_At, string Key_Id, int Timeout_Seconds, long Output_Bytes, bool Truncated,
        string? Error, string? Session_Id, decimal? Total_Cost_Usd, int? Num_Turns, string? Result, bool? Is_Error)
    {
        public CommandRecord ToRecord() => new()
        {
            Id = Id, Project = Project, Kind = Kind, Args = JsonNode.Parse(Args)!.AsObject(), Status = Status,
            ExitCode = Exit_Code, CreatedAt = Utc(Created_At), StartedAt = Started_At is { } s ? Utc(s) : null,
            FinishedAt = Finished_At is { } f ? Utc(f) : null, KeyId = Key_Id, TimeoutSeconds = Timeout_Seconds,
            OutputBytes = Output_Bytes, Truncated = Truncated, Error = Error, SessionId = Session_Id,
            TotalCostUsd = Total_Cost_Usd, NumTurns = Num_Turns, Result = Result, IsError = Is_Error,
        };

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
