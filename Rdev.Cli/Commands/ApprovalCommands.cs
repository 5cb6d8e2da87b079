using System.CommandLine;
using Microsoft.Kiota.Abstractions.Serialization;
using Rdev.Cli.Configuration;
using Rdev.Cli.Streaming;
using Rdev.Client;
using Rdev.Client.Generated.Models;

namespace Rdev.Cli.Commands;

/// <summary>
/// <c>rdev approvals [--project P] [--watch]</c> and <c>rdev approve ID APPROVAL [--deny] [--message TEXT]</c>: what
/// Claude sessions wait for, and the decision (docs/api.md, "Claude sessions").
/// </summary>
public static class ApprovalCommands
{
    // The API lists approvals per command; commands waiting for one are found among each project's newest.
    private const int CommandsPerProject = 200;

    public static Command List()
    {
        var project = new Option<string>("--project") { Description = "only this project's sessions" };
        var watch = new Option<bool>("--watch") { Description = "after the list, print each new pending approval as it comes (until Ctrl+C)" };
        var command = new Command("approvals", "List the tool approvals that Claude sessions wait for") { project, watch };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var only = parse.GetValue(project);
            var seen = new HashSet<Guid>();
            var pending = await PendingAsync(api, only, cancellationToken);
            foreach (var (commandId, approval) in pending)
            {
                await PrintAsync(commandId, approval, seen, cancellationToken);
            }

            if (!parse.GetValue(watch))
            {
                if (pending.Count == 0)
                {
                    Console.Error.WriteLine(only is null ? "rdev: no pending approvals" : $"rdev: no pending approvals in {only}");
                }

                return ExitCodes.Success;
            }

            Console.Error.WriteLine("rdev: watching for approvals (Ctrl+C to stop)");
            await ApprovalWatch.RunAsync(api, only, (commandId, ct) => PrintPendingAsync(api, commandId, seen, ct), cancellationToken);
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Approve()
    {
        var id = new Argument<Guid>("ID") { Description = "the command (Claude session) that waits" };
        var approval = new Argument<Guid>("APPROVAL") { Description = "the approval's id" };
        var deny = new Option<bool>("--deny") { Description = "refuse the tool use instead of allowing it" };
        var message = new Option<string>("--message") { Description = "tell Claude why (with --deny), e.g. what to do instead" };
        var command = new Command("approve", "Allow (or --deny) a tool use a Claude session waits for") { id, approval, deny, message };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var decided = await api.V1.Commands[parse.GetRequiredValue(id)].Approvals[parse.GetRequiredValue(approval)].PostAsync(
                new ApprovalDecision { Decision = parse.GetValue(deny) ? "deny" : "allow", Message = parse.GetValue(message) },
                cancellationToken: cancellationToken);
            Console.WriteLine($"{decided?.ToolName}: {decided?.Status}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task<List<(Guid Command, ApprovalRecord Approval)>> PendingAsync(
        RdevClient api, string? project, CancellationToken cancellationToken)
    {
        var projects = project is not null ? [project] : await ProjectNamesAsync(api, cancellationToken);
        var pending = new List<(Guid, ApprovalRecord)>();
        foreach (var name in projects)
        {
            var page = await api.V1.Projects[name].Commands.GetAsync(r => r.QueryParameters.Limit = CommandsPerProject, cancellationToken);
            foreach (var waiting in (page?.Items ?? []).Where(c => c.Status == "waiting_approval" && c.Id is not null))
            {
                pending.AddRange((await PendingOfAsync(api, waiting.Id!.Value, cancellationToken)).Select(a => (waiting.Id!.Value, a)));
            }
        }

        return pending;
    }

    private static async Task<IEnumerable<ApprovalRecord>> PendingOfAsync(RdevClient api, Guid commandId, CancellationToken cancellationToken)
    {
        var list = await api.V1.Commands[commandId].Approvals.GetAsync(cancellationToken: cancellationToken);
        return (list?.Items ?? []).Where(a => a.Status == "pending");
    }

    private static async Task PrintPendingAsync(RdevClient api, Guid commandId, HashSet<Guid> seen, CancellationToken cancellationToken)
    {
        foreach (var approval in await PendingOfAsync(api, commandId, cancellationToken))
        {
            await PrintAsync(commandId, approval, seen, cancellationToken);
        }
    }

    private static async Task<List<string>> ProjectNamesAsync(RdevClient api, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? cursor = null;
        do
        {
            var page = await api.V1.Projects.GetAsync(r => r.QueryParameters.Cursor = cursor, cancellationToken);
            names.AddRange((page?.Items ?? []).Select(p => p.Name).OfType<string>());
            cursor = page?.NextCursor;
        }
        while (cursor is not null);
        return names;
    }

    private static async Task PrintAsync(Guid commandId, ApprovalRecord approval, HashSet<Guid> seen, CancellationToken cancellationToken)
    {
        if (approval.Id is not { } id || !seen.Add(id))
        {
            return;
        }

        var input = approval.Input is null ? ""
            : ClaudeRenderer.Shorten(await KiotaJsonSerializer.SerializeAsStringAsync(approval.Input, false, cancellationToken), 120);
        Console.WriteLine($"{approval.ToolName} {input}");
        Console.WriteLine($"  rdev approve {commandId} {id}   (requested {Table.Time(approval.RequestedAt)}, expires {Table.Time(approval.ExpiresAt)})");
    }
}
