namespace Rdev.Api.Commands;

/// <summary>
/// When a Claude request amounts to a shell (SPEC section 5): a permission mode that approves tool use by itself, or
/// allowed tools that run commands or change files without approval. Changing files counts because a file Claude
/// may write (a Makefile, a git hook, .git/config) is a command the next build or git run executes; acceptEdits
/// is gated for the same reason. Such a request needs the <c>commands:shell</c> scope and a project that allows shell.
/// </summary>
public static class ClaudePermissions
{
    private static readonly string[] ShellModes = ["bypassPermissions", "acceptEdits"];

    // Tools that run programs or write files; compared case-insensitively, with or without a (specifier).
    private static readonly string[] ShellTools = ["Bash", "Edit", "MultiEdit", "Write", "NotebookEdit"];

    /// <summary>Why <paramref name="request"/> amounts to a shell, or null when it does not.</summary>
    public static string? ShellReason(ClaudeRequest request)
    {
        if (request.PermissionMode is { } mode && ShellModes.Contains(mode, StringComparer.OrdinalIgnoreCase))
        {
            return $"permission_mode '{mode}'";
        }

        foreach (var entry in request.AllowedTools ?? [])
        {
            if (Tools(entry) is not { } tools || tools.FirstOrDefault(IsShellTool) is { } tool)
            {
                return $"allowed_tools entry '{entry}'";
            }
        }

        return null;
    }

    private static bool IsShellTool(string tool)
    {
        var name = tool.Split('(', 2)[0].Trim();
        return name.Contains('*') || ShellTools.Contains(name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The tool rules in one entry: the CLI also splits an entry at commas and spaces outside parentheses
    /// ("Read,Bash"). Null when the parentheses do not balance, since then it is unclear what the CLI would see.
    /// </summary>
    private static List<string>? Tools(string entry)
    {
        var tools = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= entry.Length; i++)
        {
            var c = i < entry.Length ? entry[i] : ',';
            depth += c switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth < 0)
            {
                return null;
            }

            if (depth == 0 && (c == ',' || char.IsWhiteSpace(c)))
            {
                if (i > start)
                {
                    tools.Add(entry[start..i]);
                }

                start = i + 1;
            }
        }

        return depth == 0 ? tools : null;
    }
}
