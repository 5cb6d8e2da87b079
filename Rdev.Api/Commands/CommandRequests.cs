using System.Text.Json.Nodes;

namespace Rdev.Api.Commands;

/// <summary><c>POST /projects/{name}/claude</c>: one Claude Code prompt in the project's workspace.</summary>
public sealed record ClaudeRequest(
    string Prompt,
    string? SessionId = null,
    bool? Continue = null,
    string? Model = null,
    int? MaxTurns = null,
    decimal? MaxBudgetUsd = null,
    string? PermissionMode = null,
    string[]? AllowedTools = null,
    int? TimeoutSeconds = null,
    bool? Fork = null,
    bool? KeepOpen = null,
    int? IdleTimeoutSeconds = null);

/// <summary><c>POST /projects/{name}/git</c>: an allow-listed git subcommand and its arguments.</summary>
public sealed record GitRequest(string[] Args, int? TimeoutSeconds = null);

/// <summary><c>POST /projects/{name}/shell</c>: <c>sh -c &lt;command&gt;</c>.</summary>
public sealed record ShellRequest(string Command, int? TimeoutSeconds = null);

/// <summary>The argv each kind runs, always as separate elements: user text never becomes part of a shell string.</summary>
public static class CommandLines
{
    /// <param name="restricted">
    /// Whether Claude runs in its restricted mode (<c>--restricted --strict-mcp-config</c>): no tool that runs commands,
    /// no settings, hooks or MCP servers from the workspace (a git user can write those), file tools confined to the
    /// workspace. For every request whose key or project has no shell authority (SPEC section 5).
    /// </param>
    public static IReadOnlyList<string> Claude(ClaudeRequest request, string claudeCommand, bool restricted)
    {
        // The stdio control protocol (SPEC section 7a): the prompt and follow-ups arrive on stdin, permission requests
        // come back on stdout as control requests that rdev answers.
        var argv = new List<string>
        {
            claudeCommand, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose",
            "--permission-prompt-tool", "stdio",
        };
        if (restricted)
        {
            argv.AddRange(["--restricted", "--strict-mcp-config"]);
        }

        if (request.SessionId is { } session)
        {
            argv.AddRange(["--resume", session]);
        }
        else if (request.Continue == true)
        {
            argv.Add("--continue");
        }

        if (request.Fork == true)
        {
            argv.Add("--fork-session");
        }

        if (request.Model is { } model)
        {
            argv.AddRange(["--model", model]);
        }

        if (request.MaxTurns is { } turns)
        {
            argv.AddRange(["--max-turns", turns.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (request.MaxBudgetUsd is { } budget)
        {
            argv.AddRange(["--max-budget-usd", budget.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (request.PermissionMode is { } mode)
        {
            argv.AddRange(["--permission-mode", mode]);
        }

        if (request.AllowedTools is { Length: > 0 } tools)
        {
            argv.Add("--allowedTools");
            argv.AddRange(tools);
        }

        return argv;
    }

    /// <summary>
    /// rdev's own settings go first (command-line configuration outranks the repository's): no hooks and no
    /// fsmonitor program run, whatever the workspace's .git holds, and an editor that git would start (commit
    /// without -m) ends at once instead of waiting for a terminal. The caller's args never get -c
    /// (<see cref="GitArguments"/>).
    /// </summary>
    public static IReadOnlyList<string> Git(GitRequest request) => [.. GitSafety, .. request.Args];

    private static readonly string[] GitSafety =
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.editor=true"];

    public static IReadOnlyList<string> Shell(ShellRequest request) => ["sh", "-c", request.Command];

    /// <summary>What the command record shows as <c>args</c> (and the audit log keeps).</summary>
    public static JsonObject Describe(object request) =>
        System.Text.Json.JsonSerializer.SerializeToNode(request, CommandJson.Options)!.AsObject();
}

internal static class CommandJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = RdevJson.OmitNulls;
}
