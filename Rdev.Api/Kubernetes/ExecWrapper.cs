using System.Globalization;
using System.Text;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// What the start script of <see cref="RunFolder"/> and the signal-by-handle exec share with the reader of an exec.
/// </summary>
/// <remarks>
/// <para>
/// Start (<see cref="RunFolder.StartScript"/>): its first stderr line is <c>rdev-pgid:&lt;pid&gt;\n</c>, the process group of
/// the command it launched detached; the reader of the start exec takes exactly that one line.
/// </para>
/// <para>
/// Signal: <c>sh -c 'kill -"$1" -"$2"' rdev &lt;signal number&gt; &lt;pgid&gt;</c>, the shell's builtin kill, so the
/// image needs no separate kill binary; the numeric <c>kill -15 -123</c> form works in dash, bash and busybox ash.
/// </para>
/// </remarks>
public static class ExecWrapper
{
    public const string MarkerPrefix = "rdev-pgid:";

    /// <summary>$1 is the signal number, $2 the process group id.</summary>
    public const string SignalScript = "kill -\"$1\" -\"$2\"";

    /// <summary>The longest first stderr line read while looking for the marker.</summary>
    internal const int MaxMarkerLineBytes = 256;

    private static readonly byte[] MarkerPrefixBytes = Encoding.ASCII.GetBytes(MarkerPrefix);

    public static IReadOnlyList<string> SignalCommand(ProcessSignal signal, long processGroup) =>
        ["sh", "-c", SignalScript, "rdev", ((int)signal).ToString(CultureInfo.InvariantCulture), processGroup.ToString(CultureInfo.InvariantCulture)];

    /// <summary>The process group id from the marker line (without its newline), or null when the line is anything else.</summary>
    public static long? ParseMarker(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith(MarkerPrefixBytes))
        {
            return null;
        }
        var digits = line[MarkerPrefixBytes.Length..];
        return digits.Length is > 0 and <= 10
            && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var pgid)
            && pgid > 1
                ? pgid
                : null;
    }

    public static bool TryParseHandle(string handle, out long processGroup) =>
        long.TryParse(handle, NumberStyles.None, CultureInfo.InvariantCulture, out processGroup) && processGroup > 1;
}
