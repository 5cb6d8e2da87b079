using System.CommandLine;
using Rdev.Cli.Configuration;
using Rdev.Cli.Streaming;

namespace Rdev.Cli.Commands;

/// <summary><c>rdev logs ID [--follow] [--json]</c>: a command's stored output, or its stream followed to the end.</summary>
public static class LogsCommand
{
    public static Command Create()
    {
        var id = new Argument<Guid>("ID") { Description = "the command's id" };
        var follow = new Option<bool>("--follow", "-f") { Description = "stream the output from the start, live, and exit with the command's exit code" };
        var json = new Option<bool>("--json") { Description = "with --follow: print the raw events, one JSON object a line" };
        var command = new Command("logs", "Print a command's output (stored so far, or --follow it live)") { id, follow, json };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var commandId = parse.GetRequiredValue(id);
            if (parse.GetValue(follow))
            {
                return await new Follower(api, commandId, parse.GetValue(json), followUps: false).RunAsync(cancellationToken);
            }

            Console.Out.Write(await api.V1.Commands[commandId].Output.GetAsync(cancellationToken: cancellationToken));
            return ExitCodes.Success;
        }));
        return command;
    }
}
