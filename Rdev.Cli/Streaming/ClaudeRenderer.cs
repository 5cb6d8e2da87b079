using System.Text.Json;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Claude Code's stream-json messages, readable: the assistant's text on stdout; the session id, each tool call and
/// its result (shortened), and the turn's outcome on stderr. Message types it does not know are left out (--json
/// shows everything).
/// </summary>
public static class ClaudeRenderer
{
    public static void Print(JsonElement message, TextWriter stdout, TextWriter stderr)
    {
        switch (Text(message, "type"))
        {
            case "system" when Text(message, "subtype") == "init":
                stderr.WriteLine($"[claude session {Text(message, "session_id")}{(Text(message, "model") is { } model ? $", {model}" : "")}]");
                break;
            case "assistant":
                foreach (var block in Blocks(message))
                {
                    switch (Text(block, "type"))
                    {
                        case "text":
                            stdout.WriteLine(Text(block, "text"));
                            break;
                        case "tool_use":
                            var input = block.TryGetProperty("input", out var i) ? Shorten(i.GetRawText(), 200) : "";
                            stderr.WriteLine($"[tool] {Text(block, "name")} {input}");
                            break;
                    }
                }

                break;
            case "user":
                foreach (var block in Blocks(message).Where(b => Text(b, "type") == "tool_result"))
                {
                    var failed = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
                    stderr.WriteLine($"[tool {(failed ? "error" : "result")}] {Shorten(ResultText(block), 200)}");
                }

                break;
            case "result":
                var cost = message.TryGetProperty("total_cost_usd", out var c) && c.ValueKind == JsonValueKind.Number
                    ? $", ${c.GetDecimal():0.####}" : "";
                var turns = message.TryGetProperty("num_turns", out var n) && n.ValueKind == JsonValueKind.Number ? $"{n.GetInt32()} turns" : "";
                stderr.WriteLine($"[claude {Text(message, "subtype") ?? "done"}: {turns}{cost}, session {Text(message, "session_id")}]");
                break;
        }
    }

    /// <summary>The first line of <paramref name="text"/>, at most <paramref name="max"/> characters.</summary>
    public static string Shorten(string text, int max)
    {
        var line = text.Split('\n', 2)[0];
        return line.Length <= max && line.Length == text.Length ? line : string.Concat(line.AsSpan(0, Math.Min(line.Length, max)), "…");
    }

    private static JsonElement[] Blocks(JsonElement message) =>
        message.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.Object
        && inner.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
            ? [.. content.EnumerateArray()] : [];

    private static string ResultText(JsonElement block)
    {
        if (!block.TryGetProperty("content", out var content))
        {
            return "";
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString() ?? "",
            JsonValueKind.Array => string.Join(" ", content.EnumerateArray().Select(b => Text(b, "text")).OfType<string>()),
            _ => content.GetRawText(),
        };
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;
}
