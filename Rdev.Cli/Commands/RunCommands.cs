using System.CommandLine;
using Rdev.Cli.Configuration;
using Rdev.Cli.Streaming;
using Rdev.Client;
using Rdev.Client.Generated.Models;

namespace Rdev.Cli.Commands;

/// <summary>
/// <c>rdev git|shell|claude PROJECT ...</c>: start a command and follow it to its end (<see cref="Follower"/>), or
/// with <c>--detach</c> print its id and return.
/// </summary>
public static class RunCommands
{
    public static Command Git()
    {
        var project = ProjectArgument();
        var args = new Argument<string[]>("ARGS")
        {
            Description = "git's arguments, e.g. log --oneline -n 5 (everything after PROJECT is git's)",
            Arity = ArgumentArity.OneOrMore,
            CaptureRemainingTokens = true,
        };
        var options = new RunOptions();
        var command = new Command("git", "Run git in a project's work tree and follow its output") { project };
        options.AddTo(command);
        command.Arguments.Add(args);
        command.SetAction(Actions.Guarded((parse, cancellationToken) => StartAsync(parse, options, (api, ct) =>
            api.V1.Projects[parse.GetRequiredValue(project)].Git.PostAsync(
                new GitRequest { Args = [.. parse.GetRequiredValue(args)], TimeoutSeconds = parse.GetValue(options.Timeout) },
                cancellationToken: ct), cancellationToken)));
        return command;
    }

    public static Command Shell()
    {
        var project = ProjectArgument();
        var script = new Argument<string[]>("COMMAND")
        {
            Description = "the command line, run with sh -c in the work tree; several words are joined with spaces, as ssh does",
            Arity = ArgumentArity.OneOrMore,
            CaptureRemainingTokens = true,
        };
        var options = new RunOptions();
        var command = new Command("shell", "Run a shell command in a project's work tree and follow its output") { project };
        options.AddTo(command);
        command.Arguments.Add(script);
        command.SetAction(Actions.Guarded((parse, cancellationToken) => StartAsync(parse, options, (api, ct) =>
            api.V1.Projects[parse.GetRequiredValue(project)].Shell.PostAsync(
                new ShellRequest { Command = string.Join(' ', parse.GetRequiredValue(script)), TimeoutSeconds = parse.GetValue(options.Timeout) },
                cancellationToken: ct), cancellationToken)));
        return command;
    }

    public static Command Claude()
    {
        var project = ProjectArgument();
        var prompt = new Argument<string>("PROMPT") { Description = "what to ask Claude Code" };
        var session = new Option<string>("--session") { Description = "continue the conversation of this Claude session id" };
        var keepOpen = new Option<bool>("--keep-open")
        {
            Description = "keep the session after a turn: each line on stdin is a follow-up, an empty line or the end of input closes it",
        };
        var model = new Option<string>("--model") { Description = "the model, e.g. sonnet" };
        var maxTurns = new Option<int?>("--max-turns") { Description = "stop after this many turns" };
        var options = new RunOptions();
        var command = new Command("claude", "Run Claude Code in a project and follow the session") { project, prompt, session, keepOpen, model, maxTurns };
        options.AddTo(command);
        command.SetAction(Actions.Guarded((parse, cancellationToken) => StartAsync(parse, options, (api, ct) =>
            api.V1.Projects[parse.GetRequiredValue(project)].Claude.PostAsync(new ClaudeRequest
            {
                Prompt = parse.GetRequiredValue(prompt),
                SessionId = parse.GetValue(session),
                KeepOpen = parse.GetValue(keepOpen) ? true : null,
                Model = parse.GetValue(model),
                MaxTurns = parse.GetValue(maxTurns),
                TimeoutSeconds = parse.GetValue(options.Timeout),
            }, cancellationToken: ct), cancellationToken, followUps: parse.GetValue(keepOpen))));
        return command;
    }

    private static Argument<string> ProjectArgument() => new("PROJECT") { Description = "the project's name (rdev projects)" };

    private static async Task<int> StartAsync(
        ParseResult parse, RunOptions options, Func<RdevClient, CancellationToken, Task<CommandRecord?>> start,
        CancellationToken cancellationToken, bool followUps = false)
    {
        var api = Connection.Open();
        var record = await start(api, cancellationToken);
        var id = record?.Id ?? throw new CliException(ExitCodes.Problem, "the API answered without a command id");
        if (parse.GetValue(options.Detach))
        {
            Console.WriteLine(id);
            return ExitCodes.Success;
        }

        return await new Follower(api, id, parse.GetValue(options.Json), followUps).RunAsync(cancellationToken);
    }

    /// <summary>The options every command that starts something has.</summary>
    private sealed class RunOptions
    {
        public Option<bool> Detach { get; } = new("--detach") { Description = "print the command's id and return; it runs on (rdev logs ID --follow)" };

        public Option<int?> Timeout { get; } = new("--timeout") { Description = "stop the command after this many seconds (exit 124)" };

        public Option<bool> Json { get; } = new("--json") { Description = "print the raw events, one JSON object a line, instead of the output" };

        public void AddTo(Command command)
        {
            command.Options.Add(Detach);
            command.Options.Add(Timeout);
            command.Options.Add(Json);
        }
    }
}
