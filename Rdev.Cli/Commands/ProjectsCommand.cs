using System.CommandLine;
using Microsoft.Kiota.Abstractions.Serialization;
using Rdev.Cli.Configuration;
using Rdev.Client.Generated.Models;

namespace Rdev.Cli.Commands;

/// <summary><c>rdev projects [--json]</c>: every project the key may use (all pages).</summary>
public static class ProjectsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print the projects as a JSON array (the API's fields)" };
        var command = new Command("projects", "List the projects this key may use") { json };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var projects = new List<Project>();
            string? cursor = null;
            do
            {
                var page = await api.V1.Projects.GetAsync(r => r.QueryParameters.Cursor = cursor, cancellationToken);
                projects.AddRange(page?.Items ?? []);
                cursor = page?.NextCursor;
            }
            while (cursor is not null);

            if (parse.GetValue(json))
            {
                Console.WriteLine(await KiotaJsonSerializer.SerializeAsStringAsync(projects, false, cancellationToken));
                return ExitCodes.Success;
            }

            Table.Write(Console.Out, ["NAME", "STATUS", "RUNTIME", "COMMANDS", "DESCRIPTION"],
                [.. projects.Select(p => new[] { p.Name, p.Status, p.Runtime, Table.List(p.AllowedCommands), p.Description })]);
            return ExitCodes.Success;
        }));
        return command;
    }
}
