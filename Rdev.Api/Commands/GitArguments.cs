using System.Text.RegularExpressions;

namespace Rdev.Api.Commands;

/// <summary>
/// Which git invocations rdev runs (SPEC section 5): an allow-listed subcommand with only the options listed for it in
/// <see cref="GitOptions"/>, matched exactly, and operands confined to the work tree: no absolute path, no <c>..</c>
/// segment (also in <c>rev:path</c>), no pathspec magic, remotes only by name. Anything else is refused, naming the
/// argument, before git ever sees it.
/// </summary>
public static partial class GitArguments
{
    public static IEnumerable<string> Subcommands => GitOptions.Subcommands.Keys;

    /// <summary>The reason <paramref name="args"/> is refused, or null when it may run.</summary>
    public static string? Check(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || !GitOptions.Subcommands.TryGetValue(args[0], out var subcommand))
        {
            return $"The first argument must be one of: {string.Join(", ", GitOptions.Subcommands.Keys.Order())}.";
        }

        var name = args[0];
        if (name == "remote" && !(args.Count == 2 && args[1] is "-v" or "--verbose"))
        {
            return "Only 'remote -v' is allowed.";
        }

        var operands = 0;
        var afterDashDash = false;
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            string? problem;
            if (!afterDashDash && arg == "--")
            {
                afterDashDash = true;
                problem = subcommand.Operands is GitOperands.Remote or GitOperands.None ? $"'--' is not allowed for git {name}." : null;
            }
            else if (!afterDashDash && arg.StartsWith("--", StringComparison.Ordinal))
            {
                problem = CheckLong(name, subcommand, arg);
            }
            else if (!afterDashDash && arg.Length > 1 && arg[0] == '-')
            {
                problem = subcommand.CountShorthand && CountShorthand().IsMatch(arg) ? null : CheckShort(name, subcommand, args, ref i);
            }
            else
            {
                problem = CheckOperand(name, subcommand.Operands, arg, operands++, afterDashDash);
            }

            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? CheckLong(string subcommand, GitSubcommand spec, string arg)
    {
        var (option, value) = arg.IndexOf('=') is > 0 and var eq ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
        if (!spec.Options.TryGetValue(option, out var allowed))
        {
            return NotAllowed(option, subcommand);
        }

        return (allowed.Value, value) switch
        {
            (GitValue.None, not null) => $"The option '{option}' takes no value.",
            (GitValue.Required, null) => $"The option '{option}' needs a value, written '{option}=<value>'.",
            (_, null) => null,
            _ => CheckValue(option, allowed.Kind, value),
        };
    }

    /// <summary>A short option or a cluster of them (<c>-sb</c>); a letter that takes a value ends the cluster.</summary>
    private static string? CheckShort(string subcommand, GitSubcommand spec, IReadOnlyList<string> args, ref int i)
    {
        var arg = args[i];
        for (var at = 1; at < arg.Length; at++)
        {
            var option = "-" + arg[at];
            if (!spec.Options.TryGetValue(option, out var allowed))
            {
                return arg.Length > 2 ? $"The option '{option}' (in '{arg}') is not allowed for git {subcommand}." : NotAllowed(option, subcommand);
            }

            if (allowed.Value == GitValue.None)
            {
                continue;
            }

            var value = arg[(at + 1)..];
            if (value.Length == 0 && allowed.Value == GitValue.Required)
            {
                if (i + 1 >= args.Count)
                {
                    return $"The option '{option}' needs a value.";
                }

                value = args[++i];
            }

            return value.Length == 0 ? null : CheckValue(option, allowed.Kind, value);
        }

        return null;
    }

    private static string? CheckValue(string option, string kind, string value) => kind switch
    {
        "TEXT" => null, // Messages, formats, patterns and dates: git never reads them as paths.
        "N" => Number().IsMatch(value) ? null : $"The value of '{option}' must be a number.",
        "FILTER" => DiffFilter().IsMatch(value) ? null : $"The value of '{option}' must be diff-filter letters (ACDMRTUXB).",
        "REV" => Revision().IsMatch(value) ? PathProblem(value) : $"The value of '{option}' is not a revision or branch name.",
        _ => kind.Split('|').Contains(value) ? null : $"The value of '{option}' must be one of: {kind.Replace("|", ", ")}.",
    };

    private static string? CheckOperand(string subcommand, GitOperands kind, string arg, int index, bool afterDashDash)
    {
        switch (kind)
        {
            case GitOperands.None:
                return $"git {subcommand} takes no arguments here ('{arg}').";
            case GitOperands.Remote when index == 0:
                return RemoteName().IsMatch(arg) ? null
                    : $"'{arg}' is not a remote name: git {subcommand} goes only to a configured remote, by name (e.g. origin).";
            case GitOperands.Remote:
                return Refspec().IsMatch(arg) ? PathProblem(arg) : $"'{arg}' is not an allowed refspec (e.g. main or HEAD:topic).";
            case GitOperands.Stash when index == 0 && !afterDashDash:
                return GitOptions.StashVerbs.Contains(arg) ? null
                    : $"'{arg}' is not a stash command ({string.Join(", ", GitOptions.StashVerbs)}).";
        }

        if (arg == "-" && !afterDashDash)
        {
            return null; // The previous branch (checkout -, switch -).
        }

        return PathProblem(arg);
    }

    /// <summary>Keeps a revision, <c>rev:path</c> or path inside the repository and its work tree.</summary>
    private static string? PathProblem(string arg)
    {
        if (arg.Length == 0)
        {
            return "Empty arguments are not allowed.";
        }

        if (arg[0] is '/' or '~' || arg.Contains(":/", StringComparison.Ordinal))
        {
            return $"'{arg}' is an absolute path: paths must stay inside the work tree.";
        }

        if (arg[0] == ':')
        {
            return $"'{arg}' starts with ':' (pathspec magic or an index path), which is not allowed.";
        }

        return arg.Split('/', ':', '\\').Contains("..")
            ? $"'{arg}' contains '..': paths must stay inside the work tree."
            : null;
    }

    private static string NotAllowed(string option, string subcommand) => $"The option '{option}' is not allowed for git {subcommand}.";

    [GeneratedRegex("^-[0-9]{1,6}$")]
    private static partial Regex CountShorthand();

    [GeneratedRegex("^[0-9]{1,6}$")]
    private static partial Regex Number();

    [GeneratedRegex("^[ACDMRTUXBacdmrtuxb*]{1,20}$")]
    private static partial Regex DiffFilter();

    [GeneratedRegex(@"^[A-Za-z0-9_@][A-Za-z0-9._/@{}^~+-]*$")]
    private static partial Regex Revision();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex RemoteName();

    [GeneratedRegex(@"^\+?[A-Za-z0-9_@][A-Za-z0-9._/@{}^~-]*(:[A-Za-z0-9_][A-Za-z0-9._/-]*)?$")]
    private static partial Regex Refspec();
}
