using System.CommandLine;
using Rdev.Cli.Configuration;

namespace Rdev.Cli.Commands;

/// <summary><c>rdev cancel ID</c>: SIGTERM to the command's process group (SIGKILL after the grace period).</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var id = new Argument<Guid>("ID") { Description = "the command's id" };
        var command = new Command("cancel", "Cancel a running command (it ends 'cancelled'; a follower exits 130)") { id };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var commandId = parse.GetRequiredValue(id);
            await api.V1.Commands[commandId].Cancel.PostAsync(cancellationToken: cancellationToken);
            Console.WriteLine($"Cancelling command {commandId}.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
