using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Rdev.Api.Audit;
using Rdev.Api.Commands;

namespace Rdev.Api.Sessions;

/// <summary>Approvals, follow-up messages and session requests of Claude commands in Postgres, and the watch-all feed.</summary>
public sealed class SessionStore(NpgsqlDataSource dataSource, AuditLog audit)
{
    /// <summary>NOTIFY channel; the payload is <c>&lt;command id&gt;:&lt;action&gt;</c> (<see cref="SessionActions"/>).</summary>
    public const string Channel = "rdev_claude_session";
    public const string ApprovalDecided = "approval.decided";
    public const string MessageQueued = "command.message";

    private const string ApprovalColumns = """
        id, request_id, tool_name, input::text AS input, status, requested_at, expires_at, decided_at, decided_by, message,
        updated_input::text AS updated_input
        """;

    /// <summary>Stores a new pending approval; false when the CLI's request id is stored already.</summary>
    public async Task<bool> InsertApprovalAsync(Guid commandId, ApprovalRecord approval, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO command_approvals (id, command_id, request_id, tool_name, input, status, requested_at, expires_at)
            VALUES (@Id, @commandId, @RequestId, @ToolName, @input::jsonb, 'pending', @RequestedAt, @ExpiresAt)
            ON CONFLICT (command_id, request_id) DO NOTHING
            """, new { approval.Id, commandId, approval.RequestId, approval.ToolName, input = approval.Input?.ToJsonString() ?? "null",
                approval.RequestedAt, approval.ExpiresAt }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<ApprovalRecord>> ListApprovalsAsync(Guid commandId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<ApprovalRow>(new CommandDefinition(
            $"SELECT {ApprovalColumns} FROM command_approvals WHERE command_id = @commandId ORDER BY id",
            new { commandId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>
    /// The approvals a session must still act on after a takeover: pending ones, and decided ones that were never
    /// answered on the CLI's stdin (an answer is followed by its <c>approval</c> event with the decided status).
    /// </summary>
    public async Task<IReadOnlyList<ApprovalRecord>> ListOpenApprovalsAsync(Guid commandId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<ApprovalRow>(new CommandDefinition($"""
            SELECT {ApprovalColumns} FROM command_approvals a
            WHERE a.command_id = @commandId AND (a.status = 'pending' OR NOT EXISTS (
                SELECT 1 FROM command_events e WHERE e.command_id = a.command_id AND e.type = 'approval'
                  AND e.data::jsonb->>'id' = a.id::text AND e.data::jsonb->>'status' = a.status))
            ORDER BY a.id
            """, new { commandId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>
    /// Decides a pending, unexpired approval of a session still running (and audits it in the same transaction), then
    /// tells the replica running the session. Null when there is no such approval; the record unchanged when it was already decided or expired.
    /// </summary>
    public async Task<(ApprovalRecord? Record, bool Decided)> DecideAsync(
        Guid commandId, Guid approvalId, string status, string keyId, string? message, JsonObject? updatedInput, string project,
        IPAddress? ip, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var decided = await connection.QuerySingleOrDefaultAsync<ApprovalRow>(new CommandDefinition($"""
            UPDATE command_approvals SET status = @status, decided_at = now(), decided_by = @keyId, message = @message,
                updated_input = @updatedInput::jsonb
            WHERE id = @approvalId AND command_id = @commandId AND status = 'pending' AND expires_at > now()
              AND EXISTS (SELECT 1 FROM commands WHERE id = @commandId AND finished_at IS NULL)
            RETURNING {ApprovalColumns}
            """, new { commandId, approvalId, status, keyId, message, updatedInput = updatedInput?.ToJsonString() },
            transaction, cancellationToken: ct));
        if (decided is null)
        {
            await transaction.RollbackAsync(ct);
            var current = (await ListApprovalsAsync(commandId, ct)).FirstOrDefault(a => a.Id == approvalId);
            return (current, false);
        }

        await audit.WriteAsync(connection, ApprovalDecided, keyId, project, ip,
            new { command_id = commandId, approval_id = approvalId, decided.Tool_Name, status, edited = updatedInput is not null }, ct);
        await NotifyAsync(connection, commandId, SessionActions.Approval, ct);
        await transaction.CommitAsync(ct);
        return (decided.ToRecord(), true);
    }

    /// <summary>Marks a pending approval expired; false when it was decided first.</summary>
    public async Task<ApprovalRecord?> ExpireAsync(Guid approvalId, string message, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<ApprovalRow>(new CommandDefinition($"""
            UPDATE command_approvals SET status = 'expired', decided_at = now(), message = @message
            WHERE id = @approvalId AND status = 'pending' RETURNING {ApprovalColumns}
            """, new { approvalId, message }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task AddMessageAsync(Guid commandId, string text, string keyId, string project, IPAddress? ip, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO command_messages (command_id, text, key_id) VALUES (@commandId, @text, @keyId)",
            new { commandId, text, keyId }, transaction, cancellationToken: ct));
        await audit.WriteAsync(connection, MessageQueued, keyId, project, ip, new { command_id = commandId, length = text.Length }, ct);
        await NotifyAsync(connection, commandId, SessionActions.Message, ct);
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<(long Id, string Text)>> UnsentMessagesAsync(Guid commandId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long, string)>(new CommandDefinition(
            "SELECT id, text FROM command_messages WHERE command_id = @commandId AND sent_at IS NULL ORDER BY id",
            new { commandId }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task MarkSentAsync(long messageId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE command_messages SET sent_at = now() WHERE id = @messageId", new { messageId }, cancellationToken: ct));
    }

    /// <summary>Records an interrupt or close request for the session and tells the replica running it.</summary>
    public async Task RequestAsync(Guid commandId, string action, CancellationToken ct)
    {
        var column = action == SessionActions.Interrupt
            ? "session_interrupts = session_interrupts + 1" : "session_close_requested = true";
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE commands SET {column} WHERE id = @commandId", new { commandId }, transaction, cancellationToken: ct));
        await NotifyAsync(connection, commandId, action, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>How many interrupts were asked for, and whether a close was.</summary>
    public async Task<(int Interrupts, bool Close)> RequestsAsync(Guid commandId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<(int, bool)>(new CommandDefinition(
            "SELECT session_interrupts, session_close_requested FROM commands WHERE id = @commandId",
            new { commandId }, cancellationToken: ct));
    }

    /// <summary>
    /// Records what the CLI said so far while the session runs: its session id at <c>system/init</c>, and after each
    /// turn its result, cost and turns (the final status write records them again at the end).
    /// </summary>
    public async Task RecordClaudeAsync(Guid commandId, ClaudeOutcome claude, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE commands SET session_id = coalesce(@SessionId, session_id), total_cost_usd = coalesce(@TotalCostUsd, total_cost_usd),
                num_turns = coalesce(@NumTurns, num_turns), result = coalesce(@Result, result), is_error = coalesce(@IsError, is_error)
            WHERE id = @commandId AND finished_at IS NULL
            """, new { commandId, claude.SessionId, claude.TotalCostUsd, claude.NumTurns, claude.Result, claude.IsError },
            cancellationToken: ct));
    }

    /// <summary>Feed events after <paramref name="after"/>, for keys limited to <paramref name="projects"/> (empty: all).</summary>
    public async Task<IReadOnlyList<FeedEvent>> ReadFeedAsync(
        long after, string[] projects, string? project, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<FeedRow>(new CommandDefinition("""
            SELECT id, command_id, project, kind, status, exit_code, key_id, at FROM command_feed
            WHERE id > @after AND (cardinality(@projects) = 0 OR project = ANY(@projects))
              AND (@project::text IS NULL OR project = @project)
            ORDER BY id LIMIT @limit
            """, new { after, projects, project, limit }, cancellationToken: ct));
        return rows.Select(r => new FeedEvent(r.Id, r.Command_Id, r.Project, r.Kind, r.Status, r.Exit_Code, r.Key_Id,
            new DateTimeOffset(DateTime.SpecifyKind(r.At, DateTimeKind.Utc)))).ToList();
    }

    private static async Task NotifyAsync(NpgsqlConnection connection, Guid commandId, string action, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_notify(@channel, @payload)", new { channel = Channel, payload = $"{commandId}:{action}" }, cancellationToken: ct));

    private sealed record FeedRow(long Id, Guid Command_Id, string Project, string Kind, string Status, int? Exit_Code, string Key_Id, DateTime At);

    private sealed record ApprovalRow(
        Guid Id, string Request_Id, string Tool_Name, string Input, string Status, DateTime Requested_At, DateTime Expires_At,
        DateTime? Decided_At, string? Decided_By, string? Message, string? Updated_Input)
    {
        public ApprovalRecord ToRecord() => new()
        {
            Id = Id, RequestId = Request_Id, ToolName = Tool_Name, Input = JsonNode.Parse(Input), Status = Status,
            RequestedAt = Utc(Requested_At), ExpiresAt = Utc(Expires_At), DecidedAt = Decided_At is { } d ? Utc(d) : null,
            DecidedBy = Decided_By, Message = Message, UpdatedInput = Updated_Input is null ? null : JsonNode.Parse(Updated_Input),
        };

        private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
    }
}
