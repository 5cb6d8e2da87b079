using System.Text.Json.Nodes;
using Dapper;
using System.Net;
using Npgsql;
using Rdev.Api.Audit;

namespace Rdev.Api.Commands;

/// <summary>Which replica started a command, and its process group there.</summary>
public sealed record RunnerStart(string RunnerId, string Handle);

/// <summary>How a command ended, as its record will say.</summary>
public sealed record CommandOutcome(string Status, int? ExitCode, string? Error);

/// <summary>Commands and their events in Postgres: the durable record every replica reads from.</summary>
public sealed class CommandStore(NpgsqlDataSource dataSource, AuditLog audit)
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
        CommandRecord command, int maxConcurrent, string runnerId, IPAddress? clientIp, CancellationToken ct)
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
            INSERT INTO commands (id, project, kind, args, status, key_id, created_at, timeout_seconds, last_seq, runner_id)
            VALUES (@Id, @Project, @Kind, @Args::jsonb, @Status, @KeyId, @CreatedAt, @TimeoutSeconds, 1, @runnerId);
            INSERT INTO command_events (command_id, seq, type, data) VALUES (@Id, 1, 'status', @StatusData);
            SELECT pg_notify('rdev_command_events', @Id::text);
            """,
            new
            {
                command.Id, command.Project, command.Kind, Args = command.Args.ToJsonString(), command.Status,
                command.KeyId, command.CreatedAt, command.TimeoutSeconds, runnerId,
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
    /// Appends a batch of events in one round trip and moves the command's counters with them. With
    /// <paramref name="started"/> the batch also marks the command running (its first batch starts with that status).
    /// </summary>
    public async Task AppendEventsAsync(
        Guid id, IReadOnlyList<CommandEvent> events, long outputBytes, bool truncated, RunnerStart? started, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var batch = dataSource.CreateBatch();
        if (started is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                "UPDATE commands SET status = 'running', started_at = now(), runner_id = $2, process_handle = $3 WHERE id = $1")
            {
                Parameters = { new() { Value = id }, new() { Value = started.RunnerId }, new() { Value = started.Handle } },
            });
        }

        // Live status changes inside the run (a Claude session waiting for a person, or working again), each one, so
        // that the watch-all feed sees every state even when two land in one batch.
        foreach (var status in EventData.Statuses(events).Skip(started is null ? 0 : 1))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE commands SET status = $2 WHERE id = $1 AND finished_at IS NULL")
            {
                Parameters = { new() { Value = id }, new() { Value = status } },
            });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO command_events (command_id, seq, type, data)
            SELECT $1, seq, type, data FROM unnest($2::bigint[], $3::text[], $4::text[]) AS e(seq, type, data)
            """)
        {
            Parameters =
            {
                new() { Value = id },
                new() { Value = events.Select(e => e.Seq).ToArray() },
                new() { Value = events.Select(e => e.Type).ToArray() },
                new() { Value = events.Select(e => e.Data).ToArray() },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "UPDATE commands SET last_seq = $2, output_bytes = $3, truncated = $4 WHERE id = $1")
        {
            Parameters = { new() { Value = id }, new() { Value = events[^1].Seq }, new() { Value = outputBytes }, new() { Value = truncated } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify('rdev_command_events', $1::text)")
        {
            Parameters = { new() { Value = id.ToString() } },
        });
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records the final status (as the last event) and the outcome fields.</summary>
    public async Task FinishAsync(
        Guid id, long seq, string status, int? exitCode, string? error, long outputBytes, bool truncated, ClaudeOutcome? claude,
        CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE commands SET status = @status, exit_code = @exitCode, finished_at = now(), last_seq = @seq, error = @error,
                output_bytes = @outputBytes, truncated = @truncated, session_id = @SessionId, total_cost_usd = @TotalCostUsd, num_turns = @NumTurns, result = @Result, is_error = @IsError
            WHERE id = @id;
            INSERT INTO command_events (command_id, seq, type, data) VALUES (@id, @seq, 'status', @data);
            SELECT pg_notify('rdev_command_events', @id::text);
            """, new
            {
                id, seq, status, exitCode, error, outputBytes, truncated,
                claude?.SessionId, claude?.TotalCostUsd, claude?.NumTurns, claude?.Result, claude?.IsError,
                data = EventData.Status(status, exitCode),
            }, cancellationToken: ct));
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

    public async Task RequestCancelAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_notify('rdev_command_cancel', @id)", new { id = id.ToString() }, cancellationToken: ct));
    }

    /// <summary>Keeps this replica's heartbeat fresh.</summary>
    public async Task HeartbeatAsync(string runnerId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO command_runners (id, host, seen_at) VALUES (@runnerId, @host, now())
            ON CONFLICT (id) DO UPDATE SET seen_at = now()
            """, new { runnerId, host = Environment.MachineName }, cancellationToken: ct));
    }

    /// <summary>
    /// Marks unfinished commands whose replica stopped sending heartbeats (or never started them) as lost, each with a
    /// final status event, and forgets runners long gone. Returns how many commands were marked.
    /// </summary>
    public async Task<int> MarkLostAsync(TimeSpan runnerTimeout, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var lost = await connection.ExecuteScalarAsync<int>(new CommandDefinition($"""
            WITH lost AS (
                UPDATE commands c SET status = 'lost', finished_at = now(), last_seq = c.last_seq + 1,
                    error = 'The API replica running this command stopped.'
                WHERE c.status IN {CommandStatuses.UnfinishedSql}
                  AND NOT EXISTS (SELECT 1 FROM command_runners r WHERE r.id = c.runner_id AND r.seen_at > now() - @timeout)
                RETURNING c.id, c.last_seq
            ), events AS (
                INSERT INTO command_events (command_id, seq, type, data)
                SELECT id, last_seq, 'status', @data FROM lost
            ), notified AS (
                SELECT pg_notify('rdev_command_events', id::text) FROM lost
            )
            SELECT (SELECT count(*) FROM notified)::int;
            """, new { timeout = runnerTimeout, data = EventData.Status(CommandStatuses.Lost, null) }, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM command_runners WHERE seen_at < now() - interval '1 day'", cancellationToken: ct));
        // The watch-all feed keeps at least 7 days (SPEC section 6).
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM command_feed WHERE at < now() - interval '8 days'", cancellationToken: ct));
        return lost;
    }

    /// <summary>This replica's unfinished commands created before <paramref name="createdBefore"/>.</summary>
    public async Task<IReadOnlyList<Guid>> ListUnfinishedAsync(string runnerId, DateTimeOffset createdBefore, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var ids = await connection.QueryAsync<Guid>(new CommandDefinition($"""
            SELECT id FROM commands
            WHERE runner_id = @runnerId AND status IN {CommandStatuses.UnfinishedSql} AND created_at < @createdBefore
            """, new { runnerId, createdBefore }, cancellationToken: ct));
        return ids.AsList();
    }

    /// <summary>
    /// Records the outcome of this replica's commands that it no longer runs, each with a final status event, unless
    /// they finished meanwhile. Returns how many it finished.
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
