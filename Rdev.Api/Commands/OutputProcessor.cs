using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>One event for the ordered writer, with where the output stands once it is stored.</summary>
/// <param name="Position">Bytes of each stream whose events are this one or earlier: re-attaching resumes there.</param>
/// <param name="OutputBytes">Output bytes stored up to <paramref name="Position"/>.</param>
public readonly record struct OutputEvent(string Type, string Data, RunOffsets Position, long OutputBytes, bool Truncated);

/// <summary>
/// Turns raw process output into stored events: text decoded as UTF-8 per stream (a character split across
/// chunks is kept whole), each stdout line of <c>claude --output-format stream-json</c> that parses as JSON into a
/// <c>claude</c> event, and everything past the output cap dropped (the process keeps running). Every text is made
/// storable on the way (<see cref="StorableText"/>): invalid UTF-8, NUL and lone surrogates become U+FFFD.
/// </summary>
/// <remarks>
/// Bytes that do not make a whole event yet (an incomplete character, a Claude line without its newline) are held
/// back as bytes, and <see cref="Position"/> stops before them: re-attaching from a stored position reads them again,
/// so nothing is stored twice or split wrongly.
/// </remarks>
public sealed partial class OutputProcessor : IDisposable
{
    private readonly bool parseClaude;
    private readonly long maxOutputBytes;
    private readonly CountingDecoderFallback invalidUtf8 = new();
    private readonly Encoding utf8;
    private byte[] heldStdout = [];
    private byte[] heldStderr = [];
    private RunOffsets consumed;
    private long accepted;
    private long replaced;

    public OutputProcessor(bool parseClaude, long maxOutputBytes, RunOffsets start = default, long storedBytes = 0, bool truncated = false)
    {
        this.parseClaude = parseClaude;
        this.maxOutputBytes = maxOutputBytes;
        utf8 = Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, invalidUtf8);
        consumed = start;
        accepted = storedBytes;
        Truncated = truncated;
        written = Event("", "");
    }

    /// <summary>Output bytes whose events have been produced.</summary>
    public long OutputBytes => accepted - heldStdout.Length - heldStderr.Length;

    /// <summary>Where each stream stands, not counting held-back bytes.</summary>
    public RunOffsets Position => new(consumed.Stdout - heldStdout.Length, consumed.Stderr - heldStderr.Length);

    /// <summary>How many characters were replaced with U+FFFD to make the output storable.</summary>
    public long Replaced => replaced + invalidUtf8.Count;

    public bool Truncated { get; private set; }

    public ClaudeOutcome? Claude { get; private set; }

    /// <summary>An event at the current position.</summary>
    public OutputEvent Event(string type, string data) => new(type, data, Position, OutputBytes, Truncated);

    /// <summary>
    /// Reads the process's output until it ends into <paramref name="output"/>, which it completes. Cancelled by
    /// <paramref name="ct"/> (this replica lets go of the command) it stops without flushing held-back bytes.
    /// </summary>
    public async Task PumpAsync(IRunningProcess process, ChannelWriter<OutputEvent> output, CancellationToken ct)
    {
        var events = new List<(string Type, string Data)>();
        try
        {
            await foreach (var chunk in process.ReadOutputAsync(ct))
            {
                Process(chunk, events);
                await WriteAsync(events, output);
            }

            Complete(events);
            await WriteAsync(events, output);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            output.TryComplete();
        }
    }

    private async Task WriteAsync(List<(string Type, string Data)> events, ChannelWriter<OutputEvent> output)
    {
        foreach (var (type, data) in events)
        {
            await writeGate.WaitAsync();
            try
            {
                var e = Event(type, data);
                await output.WriteAsync(e, CancellationToken.None);
                written = e;
            }
            finally
            {
                writeGate.Release();
            }
        }

        events.Clear();
    }

    /// <summary>Adds the events for <paramref name="chunk"/> (data only; the caller numbers them).</summary>
    public void Process(OutputChunk chunk, List<(string Type, string Data)> events)
    {
        var data = chunk.Data.Span;
        consumed = consumed.Advance(chunk.Stream, data.Length);
        var room = maxOutputBytes - accepted;
        var cut = data.Length > room;
        if (cut)
        {
            Truncated = true;
            data = data[..(int)Math.Max(0, room)];
        }

        accepted += data.Length;
        var held = chunk.Stream == OutputStream.Stdout ? heldStdout : heldStderr;
        var bytes = held.Length == 0 ? data.ToArray() : [.. held, .. data];
        var claudeLines = parseClaude && chunk.Stream == OutputStream.Stdout;
        // Nothing past the cap can complete what is held, so a cut flushes it.
        var whole = cut ? bytes.Length : claudeLines ? bytes.AsSpan().LastIndexOf((byte)'\n') + 1 : CompleteLength(bytes);
        Emit(chunk.Stream, bytes.AsSpan(0, whole), events);
        SetHeld(chunk.Stream, bytes[whole..]);
    }

    /// <summary>Emits what is still held back (a last line without a newline, an incomplete character).</summary>
    public void Complete(List<(string Type, string Data)> events)
    {
        Emit(OutputStream.Stdout, heldStdout, events);
        Emit(OutputStream.Stderr, heldStderr, events);
        heldStdout = [];
        heldStderr = [];
    }

    private void SetHeld(OutputStream stream, byte[] bytes)
    {
        if (stream == OutputStream.Stdout)
        {
            heldStdout = bytes;
        }
        else
        {
            heldStderr = bytes;
        }
    }

    private void Emit(OutputStream stream, ReadOnlySpan<byte> bytes, List<(string Type, string Data)> events)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var text = StorableText.Clean(utf8.GetString(bytes), ref replaced);
        if (text.Length == 0)
        {
            return;
        }

        if (parseClaude && stream == OutputStream.Stdout)
        {
            SplitClaudeLines(text, events);
        }
        else
        {
            events.Add((EventTypes.Output, EventData.Output(StreamName(stream), text)));
        }
    }

    /// <summary>The length of <paramref name="bytes"/> without an incomplete UTF-8 sequence at its end.</summary>
    private static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // A continuation byte: look further back for its lead.
            }

            var length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return length > back ? bytes.Length - back : bytes.Length;
        }

        return bytes.Length;
    }

    private static string StreamName(OutputStream stream) => stream == OutputStream.Stdout ? "stdout" : "stderr";
}
