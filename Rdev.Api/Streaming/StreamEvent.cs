using System.Globalization;
using System.Text;
using System.Text.Json;
using Rdev.Api.Commands;

namespace Rdev.Api.Streaming;

/// <summary>
/// One stored event as it goes on the wire: its SSE frame (<c>id:</c>, <c>event:</c>, <c>data:</c> lines) encoded once
/// as UTF-8 and shared by every stream that sends it, so a replayed stream and a live one are byte-identical and 50
/// subscribers cost one copy, not 50. Generic over the event type: only a final <c>status</c> ends a stream.
/// </summary>
public sealed record StreamEvent(long Seq, byte[] Frame, bool IsFinal)
{
    /// <summary>
    /// Event data is single-line JSON (System.Text.Json escapes CR and LF); splitting on line breaks anyway keeps even
    /// a corrupt row, or a type name with a line break, inside one event: nothing stored can start a new SSE field.
    /// </summary>
    public static StreamEvent From(CommandEvent e)
    {
        // Equivalent to one "data:" line per line of the data, with CR made a space; built straight into the frame,
        // since data can be tens of megabytes (one long line of JSON-escaped output).
        var data = e.Data.AsSpan().ContainsAny('\r', '\n') ? e.Data.Replace('\r', ' ').Replace("\n", "\ndata: ") : e.Data;
        var header = $"id: {e.Seq.ToString(CultureInfo.InvariantCulture)}\nevent: {OneLine(e.Type)}\ndata: ";
        var frame = new byte[Encoding.UTF8.GetByteCount(header) + Encoding.UTF8.GetByteCount(data) + 2];
        var length = Encoding.UTF8.GetBytes(header, frame);
        length += Encoding.UTF8.GetBytes(data, frame.AsSpan(length));
        frame[length] = (byte)'\n';
        frame[length + 1] = (byte)'\n';
        return new StreamEvent(e.Seq, frame, IsFinalStatus(e));
    }

    private static string OneLine(string type) => type.Replace('\r', ' ').Replace('\n', ' ');

    private static bool IsFinalStatus(CommandEvent e)
    {
        if (e.Type != EventTypes.Status)
        {
            return false;
        }

        using var document = JsonDocument.Parse(e.Data);
        return CommandStatuses.IsFinal(document.RootElement.GetProperty("status").GetString() ?? "");
    }
}

/// <summary>
/// Consecutive stored events of one command that follow <see cref="After"/>: the answer to "what comes after this
/// position", which every stream at that position can share.
/// </summary>
public sealed class StreamPage(Guid commandId, long after, StreamEvent[] events)
{
    public Guid CommandId { get; } = commandId;

    public long After { get; } = after;

    public StreamEvent[] Events { get; } = events;

    public long Last => Events[^1].Seq;

    // What the page costs in memory, its objects included, so that many tiny pages also stay within the cache's bound.
    public long Bytes { get; } = 256 + events.Sum(e => 64L + e.Frame.Length);

    /// <summary>Set by <see cref="PageCache"/> while the page is cached.</summary>
    internal LinkedListNode<StreamPage>? CacheNode { get; set; }

    /// <summary>The events after <paramref name="position"/>, which must lie inside this page.</summary>
    public ArraySegment<StreamEvent> From(long position)
    {
        var index = Array.BinarySearch(Events, new StreamEvent(position, [], false), BySeq.Instance);
        var first = index >= 0 ? index + 1 : ~index;
        return new ArraySegment<StreamEvent>(Events, first, Events.Length - first);
    }

    private sealed class BySeq : IComparer<StreamEvent>
    {
        public static readonly BySeq Instance = new();

        public int Compare(StreamEvent? x, StreamEvent? y) => x!.Seq.CompareTo(y!.Seq);
    }
}
