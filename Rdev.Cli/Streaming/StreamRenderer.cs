using System.Text.Json;
using Rdev.Client;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Prints a command's events as a terminal user wants them: output on stdout or stderr as the command wrote it, Claude's
/// answer text on stdout, and everything about the session (tool calls, approvals, the final cost) on stderr, so that
/// <c>rdev claude ... &gt; answer.txt</c> keeps only the answer. With <c>--json</c> each event is one JSON line on stdout.
/// </summary>
public sealed class StreamRenderer(TextWriter stdout, TextWriter stderr, bool json, string commandId)
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public void Render(CommandStreamEvent item)
    {
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new { id = item.Id, @event = item.Type, data = item.Data }, Compact));
        }
        else
        {
            Print(item);
        }
    }

    private void Print(CommandStreamEvent item)
    {
        var data = item.Data;
        switch (item.Type)
        {
            case CommandStreamEvent.OutputType:
                var output = item.Output!;
                (output.IsStderr ? stderr : stdout).Write(output.Data);
                break;
            case "claude":
                ClaudeRenderer.Print(data, stdout, stderr);
                break;
            case "approval":
                PrintApproval(data);
                break;
            case "message":
                stderr.WriteLine($"> {Text(data, "text")}");
                break;
            case "status":
                PrintStatus(Text(data, "status"));
                break;
        }
    }

    private void PrintApproval(JsonElement data)
    {
        var id = Text(data, "id");
        var tool = Text(data, "tool_name");
        var status = Text(data, "status");
        if (status == "pending")
        {
            var input = data.TryGetProperty("input", out var i) ? ClaudeRenderer.Shorten(i.GetRawText(), 200) : "";
            stderr.WriteLine($"[approval {id}] {tool} {input}");
            stderr.WriteLine($"[approval {id}] waiting: rdev approve {commandId} {id}   (or --deny --message TEXT)");
        }
        else
        {
            stderr.WriteLine($"[approval {id}] {tool}: {status}");
        }
    }

    private void PrintStatus(string? status)
    {
        switch (status)
        {
            case "waiting_input":
                stderr.WriteLine("[the session waits for a follow-up]");
                break;
            case "cancelled" or "timed_out" or "lost":
                stderr.WriteLine($"[command {commandId} {status.Replace('_', ' ')}]");
                break;
        }
    }

    private static string? Text(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
