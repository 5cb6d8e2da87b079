using System.Globalization;
using System.Text;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// The argv rdev execs in a pod. The scripts are constants: the workspace, the user's argv, the signal and the
/// process group travel as positional parameters, so no user text is ever parsed by a shell.
/// </summary>
/// <remarks>
/// <para>
/// Start: <c>sh -c &lt;StartScript&gt; rdev &lt;workspace&gt; &lt;argv...&gt;</c>. The outer sh enters the workspace
/// and runs <c>setsid</c> as a foreground child. That child is never a process-group leader (a shell without job
/// control keeps its children in its own group), so util-linux and busybox <c>setsid</c> call setsid(2) directly
/// instead of forking: the inner sh becomes the leader of a new session and group, its pid is the group id.
/// It writes <c>rdev-pgid:&lt;pid&gt;\n</c> to stderr and only then execs the user's argv, so the marker is the
/// first line on stderr of the whole exec, before any byte the command can write. The reader strips exactly that
/// one line; any later line that looks like a marker is user output and passes through untouched.
/// The outer sh waits and exits with the command's status, 128 + n when signal n ended it (and, as any shell
/// does, prints "Terminated" or "Killed" to stderr in that case).
/// </para>
/// <para>
/// Signal: <c>sh -c 'kill -"$1" -"$2"' rdev &lt;signal number&gt; &lt;pgid&gt;</c>, the shell's builtin kill, so the
/// image needs no separate kill binary; the numeric <c>kill -15 -123</c> form works in dash, bash and busybox ash.
/// </para>
/// <para>
/// Pod image requirements: a POSIX <c>sh</c> (dash, bash or busybox ash) and <c>setsid</c> (util-linux or busybox)
/// on the PATH of the target container. argv[0] must not start with '-' (dash's exec takes no "--").
/// </para>
/// </remarks>
public static class ExecWrapper
{
    public const string MarkerPrefix = "rdev-pgid:";

    /// <summary>$1 is the workspace, $2... the command. Exits with cd's status when the workspace cannot be entered.</summary>
    public const string StartScript =
        """cd -- "$1" || exit; shift; setsid sh -c 'printf "rdev-pgid:%s\n" "$$" >&2 && exec "$@"' rdev "$@"; exit $?""";

    /// <summary>
    /// Like <see cref="StartScript"/>, for a command that reads its stdin (a Claude session). The v4 exec protocol
    /// cannot end stdin, so a line filter, started in the background on the exec's stdin (kept as fd 3, since a
    /// background list's stdin is /dev/null), passes lines on until <see cref="EndOfInput"/> and then ends the command's
    /// input. Being in the background, it does not keep the exec open once the command has exited.
    /// </summary>
    public const string InputStartScript =
        """cd -- "$1" || exit; shift; exec 3<&0; { while IFS= read -r l <&3; do [ "$l" = "rdev-end-of-input" ] && break; printf '%s\n' "$l"; done & } | setsid sh -c 'printf "rdev-pgid:%s\n" "$$" >&2 && exec "$@"' rdev "$@" 3<&-; exit $?""";

    /// <summary>The line that ends the input of an <see cref="InputStartScript"/> command; it cannot be a JSON line.</summary>
    public const string EndOfInput = "rdev-end-of-input";

    /// <summary>$1 is the signal number, $2 the process group id.</summary>
    public const string SignalScript = "kill -\"$1\" -\"$2\"";

    /// <summary>The longest first stderr line read while looking for the marker.</summary>
    internal const int MaxMarkerLineBytes = 256;

    private static readonly byte[] MarkerPrefixBytes = Encoding.ASCII.GetBytes(MarkerPrefix);

    public static IReadOnlyList<string> StartCommand(string workspace, IReadOnlyList<string> argv, bool input = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(workspace);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0]))
        {
            throw new ArgumentException("The command needs a program.", nameof(argv));
        }
        return ["sh", "-c", input ? InputStartScript : StartScript, "rdev", workspace, .. argv];
    }

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
