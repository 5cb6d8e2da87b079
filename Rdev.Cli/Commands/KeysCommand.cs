using System.CommandLine;
using Microsoft.Kiota.Abstractions.Serialization;
using Rdev.Cli.Configuration;
using Rdev.Client.Generated.Models;

namespace Rdev.Cli.Commands;

/// <summary><c>rdev keys create|list|revoke</c>: the admin's key management (docs/api.md, "Keys, scopes and limits").</summary>
public static class KeysCommand
{
    public static Command Create() => new("keys", "Create, list and revoke API keys (admin)")
    {
        CreateKey(),
        ListKeys(),
        RevokeKey(),
    };

    private static Command CreateKey()
    {
        var name = new Option<string>("--name") { Description = "a name for people: 1-64 letters, digits, space, . _ -", Required = true };
        var scopes = new Option<string[]>("--scope") { Description = "a scope (repeat for several): admin, projects:read, commands:run, commands:shell, commands:read, commands:approve, config:read, config:write", Required = true };
        var projects = new Option<string[]>("--project") { Description = "a project the key may use (repeat; none = all)" };
        var ips = new Option<string[]>("--allowed-ip") { Description = "an address or CIDR the key may be used from (repeat; none = any)" };
        var expires = new Option<DateTimeOffset?>("--expires") { Description = "when the key stops working, e.g. 2027-06-30T00:00:00Z" };
        var command = new Command("create", "Create a key: the key is printed once, alone on stdout") { name, scopes, projects, ips, expires };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var created = await api.V1.Keys.PostAsync(new CreateKeyRequest
            {
                Name = parse.GetRequiredValue(name),
                Scopes = [.. parse.GetRequiredValue(scopes)],
                Projects = [.. parse.GetValue(projects) ?? []],
                AllowedIps = [.. parse.GetValue(ips) ?? []],
                ExpiresAt = parse.GetValue(expires),
            }, cancellationToken: cancellationToken);
            Console.Error.WriteLine($"Created key {created?.Id} ({created?.Name}; {Table.List(created?.Scopes)}). It is shown only now:");
            Console.WriteLine(created?.Key);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command ListKeys()
    {
        var json = new Option<bool>("--json") { Description = "print the keys as a JSON array (the API's fields; never a secret)" };
        var command = new Command("list", "List the keys, newest first, revoked ones too") { json };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var keys = new List<KeyResponse>();
            string? cursor = null;
            do
            {
                var page = await api.V1.Keys.GetAsync(r => r.QueryParameters.Cursor = cursor, cancellationToken);
                keys.AddRange(page?.Items ?? []);
                cursor = page?.NextCursor;
            }
            while (cursor is not null);

            if (parse.GetValue(json))
            {
                Console.WriteLine(await KiotaJsonSerializer.SerializeAsStringAsync(keys, false, cancellationToken));
                return ExitCodes.Success;
            }

            Table.Write(Console.Out, ["ID", "NAME", "SCOPES", "PROJECTS", "STATE", "LAST USED"],
                [.. keys.Select(k => new[] { k.Id, k.Name, Table.List(k.Scopes), Table.List(k.Projects) ?? "all", State(k), Table.Time(k.LastUsedAt) })]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command RevokeKey()
    {
        var id = new Argument<string>("ID") { Description = "the key's id (the part after rdev_)" };
        var command = new Command("revoke", "Revoke a key: every API replica refuses it within a second") { id };
        command.SetAction(Actions.Guarded(async (parse, cancellationToken) =>
        {
            var api = Connection.Open();
            var keyId = parse.GetRequiredValue(id);
            await api.V1.Keys[keyId].DeleteAsync(cancellationToken: cancellationToken);
            Console.WriteLine($"Revoked key {keyId}.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string State(KeyResponse key) =>
        key.RevokedAt is { } revoked ? $"revoked {Table.Time(revoked)}"
        : key.ExpiresAt is { } expires && expires <= DateTimeOffset.UtcNow ? $"expired {Table.Time(expires)}"
        : key.ExpiresAt is { } later ? $"active until {Table.Time(later)}"
        : "active";
}
