using System.Text.Json;
using System.Text.Json.Serialization;
using Rdev.Client;

namespace Rdev.Console.Api;

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record ProjectInfo(
    string Name, string Status, string? Description, string Runtime, string Workspace,
    IReadOnlyList<string> AllowedCommands, int MaxConcurrentCommands, bool Runnable, DateTimeOffset UpdatedAt);

public sealed record CommandInfo
{
    public Guid Id { get; init; }
    public string Project { get; init; } = "";
    public string Kind { get; init; } = "";
    public JsonElement Args { get; init; }
    public string Status { get; init; } = "";
    public int? ExitCode { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? KeyId { get; init; }
    public long OutputBytes { get; init; }
    public bool Truncated { get; init; }
    public string? SessionId { get; init; }
    public decimal? TotalCostUsd { get; init; }
    public int? NumTurns { get; init; }
    public string? Result { get; init; }

    [JsonIgnore]
    public bool IsLive => !new CommandStatus(Status, ExitCode).IsFinal;

    [JsonIgnore]
    public bool NeedsPerson => Status is CommandStatuses.WaitingApproval or CommandStatuses.WaitingInput;

    /// <summary>What was asked, in one line: the git args, the shell command or the Claude prompt.</summary>
    [JsonIgnore]
    public string Summary => Args.ValueKind switch
    {
        JsonValueKind.Object when Args.TryGetProperty("prompt", out var prompt) => prompt.GetString() ?? "",
        JsonValueKind.Object when Args.TryGetProperty("command", out var command) => command.GetString() ?? "",
        JsonValueKind.Object when Args.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Array =>
            string.Join(' ', args.EnumerateArray().Select(a => a.GetString())),
        JsonValueKind.Array => string.Join(' ', Args.EnumerateArray().Select(a => a.ToString())),
        JsonValueKind.Undefined or JsonValueKind.Null => "",
        _ => Args.ToString(),
    };
}

public static class CommandStatuses
{
    public const string WaitingApproval = "waiting_approval";
    public const string WaitingInput = "waiting_input";
}

public sealed record ApprovalInfo(
    Guid Id, string ToolName, JsonElement Input, string Status, DateTimeOffset RequestedAt,
    DateTimeOffset? DecidedAt, string? DecidedBy, string? Message)
{
    [JsonIgnore]
    public bool IsPending => Status == "pending";
}

public sealed record ConfigItemSummary(string Name, string? Description, long Size, DateTimeOffset ModifiedAt);

public sealed record ConfigItem(string Name, string Type, string Content, long Size, DateTimeOffset ModifiedAt)
{
    /// <summary>From the response's ETag header; sent back as If-Match so that a stale edit is refused (412).</summary>
    [JsonIgnore]
    public string ETag { get; init; } = "";
}
