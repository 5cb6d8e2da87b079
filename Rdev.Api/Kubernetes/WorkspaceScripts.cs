namespace Rdev.Api.Kubernetes;

/// <summary>
/// The constant sh scripts behind <see cref="KubernetesWorkspaceFiles"/>. Run as
/// <c>sh -c &lt;script&gt; rdev-config &lt;workspace&gt; &lt;folder&gt; &lt;file&gt; &lt;n&gt;</c>: the workspace, the
/// item's folder (relative, e.g. <c>.claude/skills/review</c>), its file name and a number travel as positional
/// parameters, never inside the script, and file content travels on stdin, never on a command line.
/// </summary>
/// <remarks>
/// <para>
/// Exec over v4.channel.k8s.io has no end-of-input signal, so a write passes its byte count as <c>$4</c> and the
/// script reads exactly that many bytes with <c>head -c</c>; if fewer arrive (the connection dropped and the runtime
/// closed stdin) the temporary file is removed and the item is untouched. The temporary file is hidden, in the
/// item's own folder (so <c>mv</c> is a rename on one file system) and named after the item, so the next write of
/// the item removes one left by a killed writer.
/// </para>
/// <para>
/// Exit codes: 0 done; 3 the workspace cannot be entered; 4 no such item; 5 a symbolic link (or a folder where the
/// file belongs) on the item's path; 6 the file system refused (permissions, space); 7 stdin ended early; 8 the image
/// has no <c>stat</c>.
/// </para>
/// <para>
/// Pod image requirements: a POSIX <c>sh</c> with <c>head -c</c>, <c>stat -c</c> (GNU coreutils or busybox),
/// <c>tr</c>, <c>wc</c>, <c>mkdir -p</c>, <c>mv</c> and <c>rm</c>.
/// </para>
/// </remarks>
public static class WorkspaceScripts
{
    public const int WorkspaceMissing = 3, NotFound = 4, Unsafe = 5, Refused = 6, ShortInput = 7, MissingTool = 8;

    /// <summary>
    /// Checks for <c>stat</c> (not in every minimal image), enters the workspace and refuses a symbolic link on any
    /// folder of <c>$2</c>, walking it one '/'-separated segment at a time (globbing off: the segments are validated
    /// names, but a pattern must never expand here).
    /// </summary>
    private const string Prologue = """
        command -v stat > /dev/null || exit 8
        cd -- "$1" || exit 3
        set -f; d=; IFS=/
        for s in $2; do d=$d$s; if [ -L "$d" ]; then exit 5; fi; d=$d/; done
        unset IFS; set +f

        """;

    /// <summary>
    /// $2 the type's folder, $3 <c>files</c> (items are <c>*.md</c>) or <c>folders</c> (items are <c>*/SKILL.md</c>),
    /// $4 how many bytes of each file to print. Per item, NUL-terminated: the name, "size mtime", the file's first
    /// $4 bytes with NUL bytes dropped. A missing folder lists nothing.
    /// </summary>
    public const string List = Prologue + """
        cd -- "$2" 2>/dev/null || exit 0
        for f in *; do
          if [ "$3" = folders ]; then
            if [ -L "./$f" ]; then continue; fi
            n=$f; p=./$f/SKILL.md
          else
            case $f in *.md) n=${f%.md}; p=./$f ;; *) continue ;; esac
          fi
          if [ -L "$p" ] || [ ! -f "$p" ]; then continue; fi
          m=$(stat -c '%s %Y' -- "$p") || continue
          printf '%s\0%s\0' "$n" "$m"
          head -c "$4" "$p" | tr -d '\000'
          printf '\0'
        done
        """;

    /// <summary>$2/$3 is the item; prints its mtime (seconds) and a newline, then at most $4 bytes of it.</summary>
    public const string Read = Prologue + """
        p=./$2/$3
        if [ -L "$p" ]; then exit 5; fi
        if [ ! -f "$p" ]; then exit 4; fi
        stat -c %Y -- "$p" || exit 4
        exec head -c "$4" "$p"
        """;

    /// <summary>Replaces $2/$3 with exactly $4 bytes read from stdin; prints the new mtime (seconds).</summary>
    public const string Write = Prologue + """
        p=./$2/$3
        if [ -L "$p" ] || [ -d "$p" ]; then exit 5; fi
        mkdir -p -- "./$2" || exit 6
        rm -f -- "./$2/.$3".rdev-*.tmp
        t=./$2/.$3.rdev-$$.tmp
        head -c "$4" > "$t" || { rm -f -- "$t"; exit 6; }
        n=$(wc -c < "$t")
        if [ $n -ne "$4" ]; then rm -f -- "$t"; exit 7; fi
        mv -f -- "$t" "$p" || { rm -f -- "$t"; exit 6; }
        stat -c %Y -- "$p" 2>/dev/null
        exit 0
        """;

    /// <summary>
    /// Removes $2/$3, or with $4 = <c>folder</c> the whole folder $2: renamed out of sight first, so a reader never
    /// sees half a skill.
    /// </summary>
    public const string Delete = Prologue + """
        p=./$2/$3
        if [ -L "$p" ]; then exit 5; fi
        if [ ! -f "$p" ]; then exit 4; fi
        if [ "$4" = folder ]; then
          t=./${2%/*}/.${2##*/}.rdev-$$.del
          mv -- "./$2" "$t" || exit 6
          rm -rf -- "$t"
        else
          rm -f -- "$p" || exit 6
        fi
        exit 0
        """;

    /// <summary>Removes temporary files of $2/$3 left by an interrupted write (best effort, after a lost connection).</summary>
    public const string Cleanup = Prologue + """
        rm -f -- "./$2/.$3".rdev-*.tmp
        exit 0
        """;

    /// <summary>The exec argv: <paramref name="script"/> with its four positional parameters.</summary>
    public static IReadOnlyList<string> Command(string script, string workspace, string folder, string third, string fourth) =>
        ["sh", "-c", script, "rdev-config", workspace, folder, third, fourth];
}
