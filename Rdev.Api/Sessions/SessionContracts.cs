using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rdev.Api.Sessions;

public static class ApprovalStatuses
{
    public const string Pending = "pending";
    public const string Allowed = "allowed";
    public const string Denied = "denied";
    public const string Expired = "expired";
}

/// <summary>One tool-permission request of a Claude session, as <c>GET /commands/{id}/approvals</c> shows it.</summary>
public sealed record ApprovalRecord
{
    public required Guid Id { get; init; }
    public required string ToolName { get; init; }
    public required JsonNode? Input { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? Message { get; init; }
    public JsonNode? UpdatedInput { get; init; }

    /// <summary>The CLI's id for the request, answered in its control response; not shown.</summary>
    [JsonIgnore]
    public string RequestId { get; init; } = "";
}

public sealed record ApprovalList(IReadOnlyList<ApprovalRecord> Items);

/// <summary><c>POST /commands/{id}/approvals/{approval_id}</c>.</summary>
public sealed record ApprovalDecision(string Decision, string? Message = null, JsonObject? UpdatedInput = null);

/// <summary><c>POST /commands/{id}/messages</c>: a follow-up user message.</summary>
public sealed record SessionMessage(string Text);

/// <summary>The answer of the session endpoints that only queue something for the session (202).</summary>
public sealed record SessionAccepted(Guid CommandId, string Status);

/// <summary>One event of the watch-all feed (SPEC section 6).</summary>
public sealed record FeedEvent(long Seq, Guid Id, string Project, string Kind, string Status, int? ExitCode, string KeyId, DateTimeOffset At);

/// <summary>What a session is told through Postgres NOTIFY, by whichever replica took the request.</summary>
public static class SessionActions
{
    public const string Approval = "approval";
    public const string Message = "message";
    public const string Interrupt = "interrupt";
    public const string Close = "close";
}

/// <summary>Adds an event of a session to its command's ordered event writer (numbered and stored like its output).</summary>
internal delegate Task SessionEmit(string type, string data, CancellationToken ct);
