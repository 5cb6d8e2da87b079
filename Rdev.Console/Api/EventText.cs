using System.Globalization;
using System.Text.Json;

namespace Rdev.Console.Api;

/// <summary>One block of the command view: output, or a readable form of a Claude event.</summary>
public sealed record RenderedEvent(int Seq, string Kind, string Text)
{
    public static class Kinds
    {
        public const string Stdout = "stdout";
        public const string Stderr = "stderr";
        public const string System = "system";
        public const string Assistant = "assistant";
        public const string ToolCall = "tool-call";
        public const string ToolResult = "tool-result";
        public const string Result = "result";
        public const string Message = "message";
        public const string Approval = "decision";
    }
}

/// <summary>
/// Turns an event of the command stream into what a person reads: output as it came, and the lines of
/// <c>claude --output-format stream-json</c> as assistant text, tool calls, tool results and the turn's result and cost.
/// </summary>
public static class EventText
{
    public static IEnumerable<(string Kind, string Text)> Describe(string type, JsonElement data) => type switch
    {
        "output" => [(Str(data, "stream") == "stderr" ? RenderedEvent.Kinds.Stderr : RenderedEvent.Kinds.Stdout, Str(data, "data") ?? "")],
        "message" => [(RenderedEvent.Kinds.Message, Str(data, "text") ?? "")],
        "claude" => Claude(data),
        _ => [],
    };

    private static IEnumerable<(string, string)> Claude(JsonElement line)
    {
        switch (Str(line, "type"))
        {
            case "system" when Str(line, "subtype") == "init":
                yield return (RenderedEvent.Kinds.System, $"Session started · model {Str(line, "model") ?? "?"}");
                break;
            case "assistant":
                foreach (var block in Blocks(line))
                {
                    switch (Str(block, "type"))
                    {
                        case "text":
                            yield return (RenderedEvent.Kinds.Assistant, Str(block, "text") ?? "");
                            break;
                        case "tool_use":
                            yield return (RenderedEvent.Kinds.ToolCall, $"{Str(block, "name")} {Compact(block, "input")}");
                            break;
                    }
                }
                break;
            case "user":
                foreach (var block in Blocks(line).Where(b => Str(b, "type") == "tool_result"))
                {
                    var error = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
                    yield return (RenderedEvent.Kinds.ToolResult, (error ? "error: " : "") + ResultText(block));
                }
                break;
            case "result":
                var cost = line.TryGetProperty("total_cost_usd", out var c) && c.ValueKind == JsonValueKind.Number
                    ? $" · cost ${c.GetDecimal().ToString("0.####", CultureInfo.InvariantCulture)}" : "";
                var turns = line.TryGetProperty("num_turns", out var n) && n.ValueKind == JsonValueKind.Number ? $" · {n.GetInt32()} turns" : "";
                yield return (RenderedEvent.Kinds.Result, $"Turn ended ({Str(line, "subtype") ?? "done"}){turns}{cost}: {Str(line, "result")}");
                break;
        }
    }

    private static JsonElement[] Blocks(JsonElement line) =>
        line.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
        && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
            ? [.. content.EnumerateArray()] : [];

    private static string ResultText(JsonElement block) =>
        block.TryGetProperty("content", out var content) ? content.ValueKind switch
        {
            JsonValueKind.String => content.GetString() ?? "",
            JsonValueKind.Array => string.Join("\n", content.EnumerateArray().Select(b => Str(b, "text")).Where(t => t is not null)),
            _ => content.ToString(),
        } : "";

    private static string Compact(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetRawText() : "";

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;
}
