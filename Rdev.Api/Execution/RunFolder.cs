using System.Globalization;

namespace Rdev.Api.Execution;

/// <summary>
/// The run folder protocol both runtimes share (SPEC section 6, durable runs). Each command gets a folder
/// <c>&lt;runs root&gt;/&lt;command id&gt;/</c> outside the workspace, kept by a detached keeper process:
/// <list type="table">
/// <item><term>out, err</term><description>the output spool, append-only, each bounded by the output cap (the command
/// keeps running past it; the rest is dropped)</description></item>
/// <item><term>pgid</term><description>the command's process group id, written before the command runs</description></item>
/// <item><term>keeper</term><description>the keeper's pid: a folder with neither keeper nor exit file is a lost run</description></item>
/// <item><term>exit</term><description><c>&lt;exit code&gt; &lt;out size&gt; &lt;err size&gt;</c>, written atomically (temp name, rename)
/// once the command has ended and its output is spooled; readers stop at those sizes</description></item>
/// <item><term>in, in.closed</term><description>the command's stdin when it reads input: appended lines, and the marker that ends it</description></item>
/// </list>
/// The scripts are constants. Ids, offsets, sizes and the user's argv travel as positional parameters (the argv
/// after all of rdev's), so no user text is ever parsed by a shell. An empty runs root means the pod's
/// <c>${TMPDIR:-/tmp}/rdev</c>.
/// </summary>
/// <remarks>
/// Requirements of the environment (pod image or host): a POSIX <c>sh</c>, <c>setsid</c>, <c>mkfifo</c>, <c>head -c</c>,
/// <c>tail -c</c>, <c>wc</c>, <c>mv</c>, <c>cat</c>, <c>sleep</c> with fractions (coreutils, util-linux or busybox).
/// </remarks>
public static class RunFolder
{
    /// <summary>Largest data frame the follow script sends at once.</summary>
    public const int MaxFrameBytes = 1024 * 1024;

    /// <summary>
    /// $1 the keeper script, $2 runs root, $3 id, $4 workspace, $5 1 when the command reads input, $6 the per-stream cap,
    /// $7 the follow script or empty, then the command. Enters the workspace, creates the folder, launches the keeper in
    /// a session of its own (so it outlives this exec, its connection and the API), waits for the command's process
    /// group and prints it as the first stderr line, <c>rdev-pgid:&lt;pgid&gt;</c>. With a follow script it then runs
    /// <see cref="FollowScript"/> from offset 0 in the same shell, so the exec that started the command also carries its
    /// output (one exec instead of two before the first byte, and no second shell). The keeper is launched from a
    /// subshell that exits at once, so it is no descendant of the exec, which may be killed as a process tree when its
    /// connection drops.
    /// </summary>
    public const string StartScript = """
        k=$1; r=$2; j=$3; d=${2:-${TMPDIR:-/tmp}/rdev}/$3; w=$4; i=$5; c=$6; f=$7; shift 7
        cd -- "$w" || exit
        mkdir -p -- "$d" && : >>"$d/out" && : >>"$d/err" && : >>"$d/in" || exit
        (setsid sh -c "$k" rdev "$d" "$i" "$c" "$@" </dev/null >/dev/null 2>&1 &)
        n=0
        until [ -s "$d/pgid" ]; do
          n=$((n+1)); [ "$n" -le 220 ] || { echo "rdev: the command did not start" >&2; exit 1; }
          if [ "$n" -le 20 ]; then sleep 0.01; else sleep 0.05; fi
        done
        read -r p <"$d/pgid"; printf 'rdev-pgid:%s\n' "$p" >&2
        [ -z "$f" ] || { set -- "$r" "$j" 0 0; eval "$f"; }
        """;

    /// <summary>
    /// The keeper, $1 the folder, $2 input flag, $3 cap, then the command. Spools stdout and stderr through fifos into
    /// out and err: cat streams each as it comes, and a file size limit (ulimit -f, the cap rounded up to 512-byte blocks,
    /// with SIGXFSZ ignored) ends that cat at the cap, after which a second cat discards the rest. Feeds stdin from in
    /// until in.closed, starts the command as the leader of a new session and group (its pid, written to pgid before
    /// exec, is the group id), waits for it, gives background children that still hold the pipes 2 s, and writes the
    /// exit file. The spools and the input feeder are subshells in the keeper's own process group (no setsid or sh of
    /// their own: every process spawned here costs milliseconds before the first output); when the 2 s are up the
    /// keeper, ignoring TERM itself, ends them all with one TERM to the group its own pid names (setsid made it the
    /// leader; were it not, no such group exists and nothing else is hit). The command is in a session of its own and
    /// is not touched.
    /// </summary>
    public const string KeeperScript = """
        d=$1; i=$2; b=$(( ($3 + 511) / 512 )); shift 3; f=; s=/dev/null
        printf '%s' "$$" >"$d/keeper"
        mkfifo "$d/o.fifo" "$d/e.fifo" || exit
        (trap "" XFSZ; ulimit -f "$b"; cat || exec cat >/dev/null) <"$d/o.fifo" >>"$d/out" 2>/dev/null & o=$!
        (trap "" XFSZ; ulimit -f "$b"; cat || exec cat >/dev/null) <"$d/e.fifo" >>"$d/err" 2>/dev/null & e=$!
        if [ "$i" = 1 ]; then
          mkfifo "$d/i.fifo" || exit
          s=$d/i.fifo
          (n=0; while :; do
             z=; [ -e "$d/in.closed" ] && z=1
             m=$(wc -c <"$d/in")
             if [ "$m" -gt "$n" ]; then tail -c +"$((n+1))" "$d/in" | head -c "$((m-n))"; n=$m
             elif [ -n "$z" ]; then exit 0
             else sleep 0.2; fi
           done) >"$d/i.fifo" &
          f=$!
        fi
        setsid sh -c 'printf %s "$$" >"$1/pgid" && shift && exec "$@"' rdev "$d" "$@" <"$s" >"$d/o.fifo" 2>"$d/e.fifo" &
        wait "$!"; x=$?
        (sleep 2; kill -15 -$$) 2>/dev/null & t=$!
        trap "" TERM
        wait "$o" "$e"
        kill "$t" 2>/dev/null
        [ -z "$f" ] || kill "$f" 2>/dev/null
        set -- $(cd "$d" && wc -c out err)
        printf '%s %s %s\n' "$x" "$1" "$3" >"$d/exit.t" && mv -f "$d/exit.t" "$d/exit"
        """;

    /// <summary>
    /// $1 runs root, $2 id, $3 and $4 the stdout and stderr offsets. Writes frames to stdout: <c>run &lt;pgid&gt;</c> first,
    /// then <c>o &lt;n&gt;</c> or <c>e &lt;n&gt;</c> each followed by n bytes of that spool, and finally <c>exit &lt;code&gt;</c>
    /// once everything up to the recorded sizes is sent; <c>gone</c> when there is no such run, <c>lost</c> when its
    /// keeper died without an exit file. It polls the spool every 10 ms until it has sent a frame (what the first output
    /// waits for), then every 0.2 s, and every 0.5 s after 30 s without output.
    /// </summary>
    public const string FollowScript = """
        cd -- "${1:-${TMPDIR:-/tmp}/rdev}/$2" 2>/dev/null || { echo gone; exit 0; }
        o=$3; e=$4; n=0; s=
        until [ -s pgid ]; do n=$((n+1)); [ "$n" -le 100 ] || { echo gone; exit 0; }; sleep 0.1; done
        read -r p <pgid; printf 'run %s\n' "$p"; n=0
        while :; do
          x=; [ -s exit ] && read -r x <exit
          if [ -n "$x" ]; then set -- $x; q=$2; r=$3; else set -- $(wc -c out err); q=$1; r=$3; fi
          a=0
          if [ "$q" -gt "$o" ]; then m=$((q-o)); [ "$m" -le 1048576 ] || m=1048576; printf 'o %s\n' "$m"; if [ "$o" = 0 ]; then head -c "$m" out; else tail -c +"$((o+1))" out | head -c "$m"; fi; o=$((o+m)); a=1; fi
          if [ "$r" -gt "$e" ]; then m=$((r-e)); [ "$m" -le 1048576 ] || m=1048576; printf 'e %s\n' "$m"; if [ "$e" = 0 ]; then head -c "$m" err; else tail -c +"$((e+1))" err | head -c "$m"; fi; e=$((e+m)); a=1; fi
          if [ "$a" = 0 ]; then
            [ -z "$x" ] || { printf 'exit %s\n' "${x%% *}"; exit 0; }
            k=; read -r k <keeper 2>/dev/null; kill -0 "$k" 2>/dev/null || [ -s exit ] || { echo lost; exit 0; }
            n=$((n+1)); if [ -z "$s" ] && [ "$n" -le 20 ]; then sleep 0.01; elif [ "$n" -gt 150 ]; then sleep 0.5; else sleep 0.2; fi
          else n=0; s=1
          fi
        done
        """;

    /// <summary>$1 runs root, $2 id, $3 the line. Fails when the run is gone or its input closed.</summary>
    public const string InputScript = """d=${1:-${TMPDIR:-/tmp}/rdev}/$2; [ -f "$d/in" ] && [ ! -e "$d/in.closed" ] && printf '%s\n' "$3" >>"$d/in" """;

    /// <summary>$1 runs root, $2 id.</summary>
    public const string CloseInputScript = """d=${1:-${TMPDIR:-/tmp}/rdev}/$2; [ -d "$d" ] && : >>"$d/in.closed" """;

    /// <summary>$1 runs root, $2 id, $3 signal number. Signals the recorded group unless the exit file says it has ended.</summary>
    public const string SignalScript = """d=${1:-${TMPDIR:-/tmp}/rdev}/$2; [ -s "$d/exit" ] || kill -"$3" -"$(cat "$d/pgid")" """;

    /// <summary>$1 runs root, $2 id.</summary>
    public const string RemoveScript = """rm -rf -- "${1:-${TMPDIR:-/tmp}/rdev}/$2" """;

    /// <summary>$1 runs root: the names of the run folders there, one a line.</summary>
    public const string ListScript = """cd -- "${1:-${TMPDIR:-/tmp}/rdev}" 2>/dev/null || exit 0; for f in *; do [ -d "$f" ] && printf '%s\n' "$f"; done; exit 0""";

    /// <param name="follow">Whether the start exec goes on as the follow script (a runtime that reads the spool itself passes false).</param>
    public static IReadOnlyList<string> StartCommand(string runsRoot, RunRequest request, string workspace, bool follow = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(workspace);
        if (request.Argv.Count == 0 || string.IsNullOrEmpty(request.Argv[0]))
        {
            throw new ArgumentException("The command needs a program.", nameof(request));
        }

        return ["sh", "-c", StartScript, "rdev", KeeperScript, runsRoot, Id(request.CommandId), workspace, request.Input ? "1" : "0",
            Number(Math.Max(1, request.MaxOutputBytes)), follow ? FollowScript : "", .. request.Argv];
    }

    public static IReadOnlyList<string> FollowCommand(string runsRoot, Guid id, RunOffsets offsets) =>
        ["sh", "-c", FollowScript, "rdev", runsRoot, Id(id), Number(offsets.Stdout), Number(offsets.Stderr)];

    public static IReadOnlyList<string> InputCommand(string runsRoot, Guid id, string line) => ["sh", "-c", InputScript, "rdev", runsRoot, Id(id), line];

    public static IReadOnlyList<string> CloseInputCommand(string runsRoot, Guid id) => ["sh", "-c", CloseInputScript, "rdev", runsRoot, Id(id)];

    public static IReadOnlyList<string> SignalCommand(string runsRoot, Guid id, ProcessSignal signal) =>
        ["sh", "-c", SignalScript, "rdev", runsRoot, Id(id), Number((int)signal)];

    public static IReadOnlyList<string> RemoveCommand(string runsRoot, Guid id) => ["sh", "-c", RemoveScript, "rdev", runsRoot, Id(id)];

    public static IReadOnlyList<string> ListCommand(string runsRoot) => ["sh", "-c", ListScript, "rdev", runsRoot];

    /// <summary>The folder name of a command: its id, lower-case with hyphens (never user text).</summary>
    public static string Id(Guid id) => id.ToString("D", CultureInfo.InvariantCulture);

    /// <summary>The parsed exit file: exit code and the final spool sizes; null when it is not (yet) complete.</summary>
    public static (int Code, long Stdout, long Stderr)? ParseExit(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var stdout)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var stderr)
                ? (code, stdout, stderr)
                : null;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
