using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rdev.Api.Commands;

public static class CommandStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string WaitingApproval = "waiting_approval";
    public const string WaitingInput = "waiting_input";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed_out";
    public const string Lost = "lost";

    public static readonly string[] Unfinished = [Queued, Running, WaitingApproval, WaitingInput];

    /// <summary>The unfinished statuses as a SQL list, for <c>status IN (...)</c>.</summary>
    public const string UnfinishedSql = "('queued', 'running', 'waiting_approval', 'waiting_input')";

    public static bool IsFinal(string status) => status is not (Queued or Running or WaitingApproval or WaitingInput);
}

public static class EventTypes
{
    public const string Output = "output";
    public const string Claude = "claude";
    public const string Status = "status";
    public const string Approval = "approval";
    public const string Message = "message";
}

/// <summary>A command as the API shows it (SPEC section 4).</summary>
public sealed record CommandRecord
{
    public required Guid Id { get; init; }
    public required string Project { get; init; }
    public required string Kind { get; init; }
    public required JsonObject Args { get; init; }
    public required string Status { get; init; }
    public int? ExitCode { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public required string KeyId { get; init; }
    public required int TimeoutSeconds { get; init; }
    public long OutputBytes { get; init; }
    public bool Truncated { get; init; }
    public string? Error { get; init; }
    public string? SessionId { get; init; }
    public decimal? TotalCostUsd { get; init; }
    public int? NumTurns { get; init; }
    public string? Result { get; init; }
    public bool? IsError { get; init; }

    /// <summary>Where to follow this command's output (SPEC section 6).</summary>
    public string StreamUrl => $"/api/v1/commands/{Id}/stream";
}

/// <summary>One stored event: its SSE id, type and JSON data (always a single line).</summary>
public sealed record CommandEvent(long Seq, string Type, string Data);

/// <summary>What the final <c>result</c> line of <c>claude -p --output-format stream-json</c> told us.</summary>
public sealed record ClaudeOutcome(string? SessionId, decimal? TotalCostUsd, int? NumTurns, string? Result, bool? IsError);

internal static class EventData
{
    private static readonly JsonSerializerOptions Json = RdevJson.OmitNulls;

    public static string Output(string stream, string data) => JsonSerializer.Serialize(new { stream, data }, Json);

    public static string Status(string status, int? exitCode) =>
        JsonSerializer.Serialize(new StatusData(status, exitCode), Json);

    /// <summary>The statuses of the status events in <paramref name="events"/>, in order.</summary>
    public static IEnumerable<string> Statuses(IReadOnlyList<CommandEvent> events)
    {
        foreach (var e in events)
        {
            if (e.Type == EventTypes.Status)
            {
                using var document = JsonDocument.Parse(e.Data);
                yield return document.RootElement.GetProperty("status").GetString()!;
            }
        }
    }

    private sealed record StatusData(string Status, int? ExitCode);
}
