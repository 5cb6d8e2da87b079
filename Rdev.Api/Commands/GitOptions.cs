namespace Rdev.Api.Commands;

/// <summary>
/// The options rdev lets through for each git subcommand: an allow-list, so an option git adds tomorrow is refused
/// until someone decides it is safe. Nothing here names a file for git to read or write, runs another program or
/// points git at another repository. Spelling: <c>-x</c> / <c>--name</c> a flag; <c>-x=K</c> a short option with a
/// value (attached, <c>-n5</c>, or the next argument, <c>-n 5</c>); <c>--name=K</c> a long option whose value must be
/// attached (<c>--max-count=5</c>); <c>[=K]</c> an optional attached value. K is N (a number), TEXT (free text that git
/// never reads as a path: messages, formats, patterns, dates), REV (a revision or branch name, held to the path
/// rules) or <c>a|b|c</c> (one of these words).
/// </summary>
internal static class GitOptions
{
    private const string DiffOutput = """
        -p --patch -s --no-patch --stat[=N] --shortstat --numstat --summary --name-only --name-status --raw -z
        -U=N --unified=N -w --ignore-all-space -b --ignore-space-change --ignore-space-at-eol --ignore-blank-lines
        --minimal --patience --histogram --diff-algorithm=default|myers|minimal|patience|histogram -M --find-renames
        --no-renames --diff-filter=FILTER --color[=always|never|auto] --no-color --word-diff[=color|plain|porcelain|none]
        --abbrev[=N] --full-index --no-ext-diff --no-textconv -R
        """;

    private const string LogFormat = """
        --oneline --format=TEXT --pretty[=TEXT] --abbrev-commit --no-abbrev-commit --decorate[=short|full|auto|no]
        --no-decorate --date=TEXT --relative-date
        """;

    /// <summary>Options by subcommand, and what its operands are.</summary>
    public static readonly IReadOnlyDictionary<string, GitSubcommand> Subcommands = new Dictionary<string, GitSubcommand>(StringComparer.Ordinal)
    {
        ["status"] = new("""
            -s --short -b --branch --long -v --verbose -z --null --show-stash --ahead-behind --no-ahead-behind --renames
            --no-renames --porcelain[=v1|v2] --untracked-files[=no|normal|all] -u[=no|normal|all]
            """),
        ["diff"] = new(DiffOutput + " " + """
            --cached --staged --merge-base --check --exit-code --quiet
            """),
        ["log"] = new(DiffOutput + " " + LogFormat + " " + """
            -n=N --max-count=N --skip=N --graph --all --no-merges --merges --first-parent --reverse --follow
            --author=TEXT --committer=TEXT --grep=TEXT -i --regexp-ignore-case --all-match --invert-grep -E
            --extended-regexp --since=TEXT --until=TEXT --after=TEXT --before=TEXT --topo-order --date-order
            --author-date-order --left-right
            """, CountShorthand: true),
        ["show"] = new(DiffOutput + " " + LogFormat),
        ["branch"] = new("""
            -a --all -r --remotes -v --verbose -l --list -d -D --delete -f --force -m -M --move -q --quiet
            --show-current -t --track --no-track -u=REV --set-upstream-to=REV --unset-upstream -i --ignore-case
            --sort=TEXT --format=TEXT
            """),
        ["checkout"] = new("""
            -b=REV -B=REV --orphan=REV -f --force -q --quiet --detach -t --track --no-track -m --merge --ours --theirs
            --guess --no-guess --overlay --no-overlay --progress --no-progress --conflict=merge|diff3|zdiff3
            """),
        ["switch"] = new("""
            -c=REV --create=REV -C=REV --force-create=REV --orphan=REV -d --detach -f --force --discard-changes -m
            --merge -q --quiet -t --track --no-track --guess --no-guess --progress --no-progress
            --conflict=merge|diff3|zdiff3
            """),
        ["add"] = new("""
            -A --all --no-all -u --update -n --dry-run -v --verbose -f --force -N --intent-to-add --ignore-errors
            --ignore-missing --ignore-removal --renormalize --refresh --sparse --chmod=+x|-x
            """),
        ["restore"] = new("""
            -s=REV --source=REV -S --staged -W --worktree -q --quiet --ours --theirs -m --merge
            --conflict=merge|diff3|zdiff3 --ignore-unmerged --overlay --no-overlay --progress --no-progress
            """),
        ["commit"] = new("""
            -m=TEXT --message=TEXT -a --all --amend --no-edit --allow-empty --allow-empty-message -q --quiet -v
            --verbose -s --signoff --no-signoff -n --no-verify --verify --author=TEXT --date=TEXT --dry-run --short
            --porcelain --long -z --null -o --only -i --include --reset-author
            --cleanup=strip|whitespace|verbatim|scissors|default
            """),
        ["fetch"] = new("""
            --all -p --prune -t --tags -n --no-tags -q --quiet -v --verbose --dry-run -f --force --depth=N --unshallow
            """, GitOperands.Remote),
        ["pull"] = new("""
            --rebase[=true|false|merges] -r --no-rebase --ff --no-ff --ff-only --autostash --no-autostash --no-edit
            --no-commit --squash --tags --no-tags -q --quiet -v --verbose --depth=N --unshallow
            """, GitOperands.Remote),
        ["push"] = new("""
            -u --set-upstream --tags --follow-tags -f --force --force-with-lease -d --delete -n --dry-run -q --quiet
            -v --verbose --no-verify --porcelain
            """, GitOperands.Remote),
        ["stash"] = new("""
            -m=TEXT --message=TEXT -u --include-untracked -k --keep-index --no-keep-index -q --quiet --index -p --patch
            --stat --name-only --name-status
            """, GitOperands.Stash),
        ["rev-parse"] = new("""
            --abbrev-ref --short[=N] --verify -q --quiet --symbolic-full-name --is-inside-work-tree
            --is-bare-repository --show-prefix --show-cdup
            """),
        ["ls-files"] = new("""
            -c --cached -d --deleted -m --modified -o --others -i --ignored --exclude-standard -s --stage -u --unmerged
            -k --killed -z -t -v --full-name --directory --no-empty-directory --error-unmatch --deduplicate --eol
            --abbrev[=N]
            """),
        ["remote"] = new("-v --verbose", GitOperands.None), // Only "remote -v": see GitArguments.
    };

    public static readonly IReadOnlySet<string> StashVerbs =
        new HashSet<string>(StringComparer.Ordinal) { "list", "show", "push", "pop", "apply", "drop", "clear", "branch" };
}

/// <summary>What the non-option arguments of a subcommand are.</summary>
internal enum GitOperands
{
    /// <summary>Revisions and paths inside the work tree (paths also after <c>--</c>).</summary>
    Paths,

    /// <summary>A configured remote by name, then refspecs; no <c>--</c>.</summary>
    Remote,

    /// <summary>A stash verb (list, show, push...), then revisions and paths.</summary>
    Stash,

    None,
}

internal enum GitValue { None, Required, Optional }

/// <summary>One allowed option: its exact name (git's abbreviations are not accepted), and its value if any.</summary>
internal sealed record GitOption(string Name, GitValue Value, string Kind);

internal sealed record GitSubcommand(string Spec, GitOperands Operands = GitOperands.Paths, bool CountShorthand = false)
{
    public IReadOnlyDictionary<string, GitOption> Options { get; } = Parse(Spec);

    private static Dictionary<string, GitOption> Parse(string spec)
    {
        var options = new Dictionary<string, GitOption>(StringComparer.Ordinal);
        foreach (var token in spec.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var option = token switch
            {
                _ when token.IndexOf("[=", StringComparison.Ordinal) is > 0 and var i =>
                    new GitOption(token[..i], GitValue.Optional, token[(i + 2)..^1]),
                _ when token.IndexOf('=') is > 0 and var i => new GitOption(token[..i], GitValue.Required, token[(i + 1)..]),
                _ => new GitOption(token, GitValue.None, ""),
            };
            options.Add(option.Name, option);
        }

        return options;
    }
}
