using System.Text.Json;
using System.Threading.Channels;

namespace Rdev.Api.Commands;

// Claude's stream-json lines: each stdout line that parses as a JSON object is a claude event; the session, cost and
// result fields come from the init and result messages.
public sealed partial class OutputProcessor
{
    // Claude sessions (issue 14): the session's own events (approvals, messages, waiting states) join the output in
    // the one ordered channel, at the position of the last output event written, so a re-attach never skips output.
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private OutputEvent written;

    /// <summary>Sees every parsed stream-json line of a Claude command (its session acts on some of them).</summary>
    public Action<JsonElement, ClaudeOutcome?>? OnClaudeLine { get; set; }

    /// <summary>Adds an event that is not output (a session's) after the output events written so far.</summary>
    public async Task WriteSideEventAsync(ChannelWriter<OutputEvent> output, string type, string data, CancellationToken ct)
    {
        await writeGate.WaitAsync(ct);
        try
        {
            await output.WriteAsync(written with { Type = type, Data = data }, ct);
        }
        finally
        {
            writeGate.Release();
        }
    }

    public void Dispose() => writeGate.Dispose();

    // Text of whole lines, or (on a flush or a cut) a last line without its newline.
    private void SplitClaudeLines(string text, List<(string Type, string Data)> events)
    {
        var start = 0;
        for (var newline = text.IndexOf('\n'); newline >= 0; newline = text.IndexOf('\n', start))
        {
            AddClaudeLine(text[start..(newline + 1)], events);
            start = newline + 1;
        }

        if (start < text.Length)
        {
            AddClaudeLine(text[start..], events);
        }
    }

    private void AddClaudeLine(string line, List<(string Type, string Data)> events)
    {
        var trimmed = line.AsSpan().Trim();
        long escapes = 0;
        if (trimmed.Length > 0 && trimmed[0] == '{'
            && TryParse(StorableText.CleanJsonEscapes(trimmed.ToString(), ref escapes), out var document))
        {
            replaced += escapes;
            using (document)
            {
                Observe(document.RootElement);
                OnClaudeLine?.Invoke(document.RootElement, Claude);
                // Re-serialized compactly: one line whatever the process printed.
                events.Add((EventTypes.Claude, JsonSerializer.Serialize(document.RootElement)));
            }

            return;
        }

        events.Add((EventTypes.Output, EventData.Output("stdout", line)));
    }

    private static bool TryParse(string text, out JsonDocument document)
    {
        try
        {
            document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            document = null!;
            return false;
        }
    }

    // The session id comes from the latest init or result (a resume can change it); the rest from the result.
    private void Observe(JsonElement message)
    {
        var type = Text(message, "type");
        if (type is not ("system" or "result"))
        {
            return;
        }

        var sessionId = Text(message, "session_id") ?? Claude?.SessionId;
        Claude = type == "result"
            ? new ClaudeOutcome(
                sessionId,
                message.TryGetProperty("total_cost_usd", out var cost) && cost.TryGetDecimal(out var c) ? c : null,
                message.TryGetProperty("num_turns", out var turns) && turns.TryGetInt32(out var n) ? n : null,
                Text(message, "result"),
                message.TryGetProperty("is_error", out var isError) && isError.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? isError.GetBoolean() : null)
            : (Claude ?? new ClaudeOutcome(null, null, null, null, null)) with { SessionId = sessionId };
    }

    // The escapes were cleaned before parsing; cleaned again here because these go to columns of their own.
    private string? Text(JsonElement message, string property) =>
        message.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? StorableText.Clean(value.GetString()!, ref replaced) : null;
}
