using System.Text.Json;

namespace Rdev.Client;

/// <summary>
/// One Server-Sent Event of a command's stream (<c>GET /api/v1/commands/{id}/stream</c>) or of the events feed
/// (<c>GET /api/v1/events</c>): its <c>id:</c>, its <c>event:</c> type and its JSON <c>data:</c>, with typed views of
/// the common types. A view is null when the event is of another type.
/// </summary>
public sealed record CommandStreamEvent(long Id, string Type, JsonElement Data)
{
    public const string OutputType = "output";
    public const string StatusType = "status";
    public const string ClaudeType = "claude";
    public const string ApprovalType = "approval";
    public const string MessageType = "message";

    /// <summary>The one type of the events feed.</summary>
    public const string CommandType = "command";

    /// <summary>An <c>output</c> event: a chunk of the command's stdout or stderr.</summary>
    public CommandOutput? Output => Type == OutputType
        ? new CommandOutput(Data.GetProperty("stream").GetString() ?? "", Data.GetProperty("data").GetString() ?? "")
        : null;

    /// <summary>A <c>status</c> event; the stream ends after the one whose <see cref="CommandStatus.IsFinal"/> holds.</summary>
    public CommandStatus? Status => Type == StatusType
        ? new CommandStatus(Data.GetProperty("status").GetString() ?? "", ExitCode(Data))
        : null;

    /// <summary>A <c>claude</c> event: one line of Claude Code's stream-json output, as it came.</summary>
    public JsonElement? Claude => Type == ClaudeType ? Data : null;

    /// <summary>A <c>command</c> event of the events feed: a command was created or changed status.</summary>
    public CommandChange? Command => Type == CommandType
        ? new CommandChange(
            Data.GetProperty("id").GetGuid(),
            Data.GetProperty("project").GetString() ?? "",
            Data.GetProperty("kind").GetString() ?? "",
            Data.GetProperty("status").GetString() ?? "",
            ExitCode(Data),
            Data.TryGetProperty("key_id", out var key) ? key.GetString() ?? "" : "",
            Data.GetProperty("at").GetDateTimeOffset())
        : null;

    /// <summary>The last event of a command's stream: a status that is final.</summary>
    public bool IsFinalStatus => Status?.IsFinal == true;

    private static int? ExitCode(JsonElement data) =>
        data.TryGetProperty("exit_code", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : null;
}

/// <summary>A chunk of output; <see cref="Stream"/> is <c>stdout</c> or <c>stderr</c>.</summary>
public sealed record CommandOutput(string Stream, string Data)
{
    public bool IsStderr => Stream == "stderr";
}

/// <summary>A command's status (<c>queued</c>, <c>running</c>, ... <c>succeeded</c>, <c>failed</c>, ...) and exit code.</summary>
public sealed record CommandStatus(string Status, int? ExitCode)
{
    /// <summary>True for the statuses a command ends in: succeeded, failed, cancelled, timed_out and lost.</summary>
    public bool IsFinal => Status is not ("queued" or "running" or "waiting_approval" or "waiting_input");
}

/// <summary>A command's creation or status change, as the events feed reports it.</summary>
public sealed record CommandChange(Guid Id, string Project, string Kind, string Status, int? ExitCode, string KeyId, DateTimeOffset At)
{
    public bool IsFinal => new CommandStatus(Status, ExitCode).IsFinal;
}
