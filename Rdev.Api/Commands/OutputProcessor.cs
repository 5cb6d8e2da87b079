using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>
/// Turns raw process output into stored events: text decoded as UTF-8 per stream (a character split across
/// chunks is kept whole), each stdout line of <c>claude --output-format stream-json</c> that parses as JSON into a
/// <c>claude</c> event, and everything past the output cap dropped (the process keeps running). Every text is made
/// storable on the way (<see cref="StorableText"/>): invalid UTF-8, NUL and lone surrogates become U+FFFD.
/// </summary>
public sealed class OutputProcessor
{
    private readonly bool parseClaude;
    private readonly long maxOutputBytes;
    private readonly CountingDecoderFallback invalidUtf8 = new();
    private readonly Decoder stdout;
    private readonly Decoder stderr;
    private readonly StringBuilder claudeLine = new();
    private long replaced;

    public OutputProcessor(bool parseClaude, long maxOutputBytes)
    {
        this.parseClaude = parseClaude;
        this.maxOutputBytes = maxOutputBytes;
        var utf8 = Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, invalidUtf8);
        stdout = utf8.GetDecoder();
        stderr = utf8.GetDecoder();
    }

    public long OutputBytes { get; private set; }

    /// <summary>How many characters were replaced with U+FFFD to make the output storable.</summary>
    public long Replaced => replaced + invalidUtf8.Count;

    public bool Truncated { get; private set; }

    public ClaudeOutcome? Claude { get; private set; }

    /// <summary>Sees every parsed stream-json line of a Claude command (its session acts on some of them).</summary>
    public Action<JsonElement, ClaudeOutcome?>? OnClaudeLine { get; set; }

    /// <summary>Reads the process's output until it ends (or <paramref name="ct"/>) into <paramref name="output"/>, which it completes.</summary>
    public async Task PumpAsync(IRunningProcess process, ChannelWriter<(string Type, string Data)> output, CancellationToken ct)
    {
        var events = new List<(string Type, string Data)>();
        try
        {
            await foreach (var chunk in process.ReadOutputAsync(ct))
            {
                Process(chunk, events);
                foreach (var e in events)
                {
                    await output.WriteAsync(e, CancellationToken.None);
                }

                events.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        Complete(events);
        foreach (var e in events)
        {
            await output.WriteAsync(e, CancellationToken.None);
        }

        output.TryComplete();
    }

    /// <summary>Adds the events for <paramref name="chunk"/> (data only; the caller numbers them).</summary>
    public void Process(OutputChunk chunk, List<(string Type, string Data)> events)
    {
        var data = chunk.Data.Span;
        var room = maxOutputBytes - OutputBytes;
        if (data.Length > room)
        {
            Truncated = true;
            data = data[..(int)Math.Max(0, room)];
        }

        if (data.IsEmpty)
        {
            return;
        }

        OutputBytes += data.Length;
        var decoder = chunk.Stream == OutputStream.Stdout ? stdout : stderr;
        // Not GetCharCount: it would run the fallback, and count each invalid sequence, twice. A decoder holds back at
        // most one incomplete character, so this is room enough.
        var chars = new char[data.Length + 4];
        var text = StorableText.Clean(new string(chars, 0, decoder.GetChars(data, chars, flush: false)), ref replaced);
        if (text.Length == 0)
        {
            return;
        }

        if (parseClaude && chunk.Stream == OutputStream.Stdout)
        {
            SplitClaudeLines(text, events);
        }
        else
        {
            events.Add((EventTypes.Output, EventData.Output(StreamName(chunk.Stream), text)));
        }
    }

    /// <summary>Emits what is still buffered (a last line without a newline, an incomplete character).</summary>
    public void Complete(List<(string Type, string Data)> events)
    {
        foreach (var (decoder, stream) in new[] { (stdout, OutputStream.Stdout), (stderr, OutputStream.Stderr) })
        {
            var chars = new char[4];
            var tail = StorableText.Clean(new string(chars, 0, decoder.GetChars([], chars, flush: true)), ref replaced);
            if (tail.Length == 0)
            {
                continue;
            }

            if (parseClaude && stream == OutputStream.Stdout)
            {
                claudeLine.Append(tail);
            }
            else
            {
                events.Add((EventTypes.Output, EventData.Output(StreamName(stream), tail)));
            }
        }

        if (claudeLine.Length > 0)
        {
            AddClaudeLine(claudeLine.ToString(), events);
            claudeLine.Clear();
        }
    }

    private void SplitClaudeLines(string text, List<(string Type, string Data)> events)
    {
        var start = 0;
        for (var newline = text.IndexOf('\n'); newline >= 0; newline = text.IndexOf('\n', start))
        {
            claudeLine.Append(text, start, newline - start + 1);
            AddClaudeLine(claudeLine.ToString(), events);
            claudeLine.Clear();
            start = newline + 1;
        }

        claudeLine.Append(text, start, text.Length - start);
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

    private static string StreamName(OutputStream stream) => stream == OutputStream.Stdout ? "stdout" : "stderr";
}
