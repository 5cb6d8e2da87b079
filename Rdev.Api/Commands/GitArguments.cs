namespace Rdev.Api.Commands;

/// <summary>
/// Which git invocations rdev runs: an allow-listed subcommand, and no option that runs another program, points
/// git at another repository or configuration, or reads and writes files outside the work tree (SPEC section 5).
/// </summary>
public static class GitArguments
{
    public static readonly IReadOnlySet<string> Subcommands = new HashSet<string>(StringComparer.Ordinal)
    {
        "status", "diff", "log", "show", "branch", "checkout", "switch", "add", "restore", "commit",
        "fetch", "pull", "push", "stash", "rev-parse", "ls-files", "remote",
    };

    // Long options are refused also when abbreviated: git accepts any unambiguous prefix (--upl = --upload-pack).
    private static readonly string[] BlockedLongOptions =
    [
        "--config-env", "--exec-path", "--upload-pack", "--receive-pack", "--exec", "--git-dir", "--work-tree",
        "--namespace", "--super-prefix", "--output", "--no-index", "--ext-diff", "--config", "--template",
    ];

    /// <summary>The reason <paramref name="args"/> is refused, or null when it may run.</summary>
    public static string? Check(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || !Subcommands.Contains(args[0]))
        {
            return $"The first argument must be one of: {string.Join(", ", Subcommands.Order())}.";
        }

        var subcommand = args[0];
        if (subcommand == "remote" && !(args.Count == 2 && args[1] is "-v" or "--verbose"))
        {
            return "Only 'remote -v' is allowed.";
        }

        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                break; // Paths from here on.
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg.Split('=', 2)[0];
                if (BlockedLongOptions.Any(blocked => blocked.StartsWith(name, StringComparison.Ordinal)))
                {
                    return $"The option '{name}' is not allowed.";
                }
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                // Short options may be clustered (-ac) and carry their value (-cname=value).
                var letters = arg[1..];
                if (letters.Contains('c') || letters.Contains('C'))
                {
                    return $"The option '{arg}' is not allowed (-c and -C change git's configuration or directory).";
                }

                if (subcommand is "fetch" or "pull" && letters.Contains('u'))
                {
                    return $"The option '{arg}' is not allowed (-u means --upload-pack for {subcommand}).";
                }
            }
            else if (subcommand is "fetch" or "pull" or "push" && arg.Contains("::", StringComparison.Ordinal))
            {
                return "Remote helper URLs (transport::address) are not allowed.";
            }
        }

        return null;
    }
}
