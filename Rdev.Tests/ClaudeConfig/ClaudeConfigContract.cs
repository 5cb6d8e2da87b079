using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>What every runtime must do with Claude Code configuration, verified on the files themselves.</summary>
public abstract partial class ClaudeConfigContract<THost>(THost host) where THost : ConfigHost
{
    protected THost Host { get; } = host;

    private const string Review = """
        ---
        description: Review the staged diff
        allowed-tools: [Read, Grep, "Bash(git diff:*)"]
        model: sonnet
        max-turns: 3
        ---
        Review $ARGUMENTS carefully.

        """;

    [Theory]
    [InlineData("commands")]
    [InlineData("agents")]
    [InlineData("skills")]
    public async Task AnItemIsCreatedListedReadUpdatedAndDeletedOnTheWorkspaceFiles(string type)
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var file = ItemFile(workspace, type, "review");

        var (status, created, etag) = await SendAsync(Host.Api, HttpMethod.Post, Url(project, type), new { name = "review", content = Review });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(Utf8(Review), await File.ReadAllBytesAsync(file));
        Assert.Equal(ETagOf(Utf8(Review)), etag);
        Assert.Equal(("review", type, Review), (created.GetProperty("name").GetString(), created.GetProperty("type").GetString(), created.GetProperty("content").GetString()));

        var list = (await SendAsync(Host.Replica, HttpMethod.Get, Url(project, type))).Body;
        var listed = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(("review", "Review the staged diff", (long)Utf8(Review).Length),
            (listed.GetProperty("name").GetString(), listed.GetProperty("description").GetString(), listed.GetProperty("size").GetInt64()));
        Assert.InRange(listed.GetProperty("modified_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(JsonValueKind.Null, list.GetProperty("next_cursor").ValueKind);

        var (item, readETag) = await GetAsync(Host.Replica, project, type, "review");
        Assert.Equal(etag, readETag);
        Assert.Equal(Review, item.GetProperty("content").GetString());
        var frontMatter = item.GetProperty("front_matter");
        Assert.Equal("Review the staged diff", frontMatter.GetProperty("description").GetString());
        Assert.Equal(["Read", "Grep", "Bash(git diff:*)"], frontMatter.GetProperty("allowed-tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(3, frontMatter.GetProperty("max-turns").GetInt32());

        var updated = Review.Replace("carefully", "twice", StringComparison.Ordinal);
        var (putStatus, put, newETag) = await SendAsync(Host.Api, HttpMethod.Put, Url(project, type, "review"), new { content = updated }, ifMatch: etag);
        Assert.Equal(HttpStatusCode.OK, putStatus);
        Assert.Equal(updated, put.GetProperty("content").GetString());
        Assert.Equal(ETagOf(Utf8(updated)), newETag);
        Assert.Equal(Utf8(updated), await File.ReadAllBytesAsync(file));

        if (type == "skills")
        {
            // A skill's folder holds more than SKILL.md; deleting the skill removes all of it.
            Directory.CreateDirectory(Path.Combine(workspace, ".claude/skills/review/scripts"));
            await File.WriteAllTextAsync(Path.Combine(workspace, ".claude/skills/review/scripts/run.sh"), "echo hi");
        }

        var (deleteStatus, _, _) = await SendAsync(Host.Replica, HttpMethod.Delete, Url(project, type, "review"), ifMatch: newETag);
        Assert.Equal(HttpStatusCode.NoContent, deleteStatus);
        Assert.False(File.Exists(file));
        Assert.False(type == "skills" && Directory.Exists(Path.GetDirectoryName(file)));
        Assert.Empty((await SendAsync(Host.Api, HttpMethod.Get, Url(project, type))).Body.GetProperty("items").EnumerateArray());
        Assert.Empty(TemporaryFiles(workspace));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(Host.Api, HttpMethod.Get, Url(project, type, "review"))).Status);

        var audit = await AuditAsync(project);
        Assert.Equal(["config.created", "config.updated", "config.deleted"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal($"{{\"item\": \"review\", \"type\": \"{type}\"}}", a.Details));
        Assert.All(audit, a => Assert.Equal("cfgtestadmin", a.KeyId));
    }

    [Fact]
    public async Task AWorkspaceWithoutAClaudeFolderListsNothing()
    {
        var (project, workspace) = await Host.AddProjectAsync();

        foreach (var type in Types)
        {
            var (status, body, _) = await SendAsync(Host.Api, HttpMethod.Get, Url(project, type));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Empty(body.GetProperty("items").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("next_cursor").ValueKind);
        }

        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task ListingSkipsWhatIsNotAnItemAndPagesByName()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var commands = Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands")).FullName;
        foreach (var name in new[] { "c", "a", "b", "d" })
        {
            await File.WriteAllTextAsync(Path.Combine(commands, name + ".md"), $"---\ndescription: {name} says \"hi\"\n---\nbody\n");
        }

        await File.WriteAllTextAsync(Path.Combine(commands, "notes.txt"), "not markdown");
        await File.WriteAllTextAsync(Path.Combine(commands, ".hidden.md"), "hidden");
        await File.WriteAllTextAsync(Path.Combine(commands, "bad name.md"), "not a valid name");
        await File.WriteAllTextAsync(Path.Combine(commands, "line\nbreak.md"), "---\ndescription: a newline in the name\n---\n");
        await File.WriteAllTextAsync(Path.Combine(commands, "broken.md"), "---\ndescription: [unclosed\n---\nbody");
        Directory.CreateDirectory(Path.Combine(commands, "folder.md"));
        File.CreateSymbolicLink(Path.Combine(commands, "link.md"), Path.Combine(Host.Outside, "keep.txt"));

        var first = (await SendAsync(Host.Api, HttpMethod.Get, Url(project, "commands") + "?limit=3")).Body;
        var cursor = first.GetProperty("next_cursor").GetString();
        var second = (await SendAsync(Host.Api, HttpMethod.Get, Url(project, "commands") + $"?limit=3&cursor={cursor}")).Body;

        Assert.Equal(["a", "b", "broken"], first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal("broken", cursor);
        Assert.Equal(["c", "d"], second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
        Assert.Equal("a says \"hi\"", first.GetProperty("items")[0].GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("items")[2].GetProperty("description").ValueKind);
        var badLimit = await Host.Api.GetAsync(Url(project, "commands") + "?limit=0");
        await badLimit.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }

    protected static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    protected async Task<List<(string Action, string Details, string? KeyId)>> AuditAsync(string project)
    {
        await using var connection = new NpgsqlConnection(Host.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT action, details::text, key_id FROM audit_log WHERE project = $1 AND action LIKE 'config.%' ORDER BY id", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = project });
        await using var reader = await command.ExecuteReaderAsync();
        var entries = new List<(string, string, string?)>();
        while (await reader.ReadAsync())
        {
            entries.Add((reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return entries;
    }
}

public sealed class LocalClaudeConfigTests(LocalConfigHost host) : ClaudeConfigContract<LocalConfigHost>(host), IClassFixture<LocalConfigHost>;

[Trait("Category", "Slow")]
public sealed class KubernetesClaudeConfigTests(KubernetesConfigHost host) : ClaudeConfigContract<KubernetesConfigHost>(host), IClassFixture<KubernetesConfigHost>
{
    [Fact]
    public async Task ContentTravelsOnStdinOfAConstantScriptOverTheV4Protocol()
    {
        var (project, _) = await Host.AddProjectAsync();
        var content = "$(secret) never on a command line";

        await CreateAsync(Host.Api, project, "commands", "stdin", content);

        var write = Assert.Single(Host.Cluster!.ExecCalls, call => call.Stdin && call.Pod == $"claudebox-{project}-0");
        Assert.Equal(["sh", "-c", Rdev.Api.Kubernetes.WorkspaceScripts.Write, "rdev-config"], write.Command.Take(4));
        Assert.Equal([".claude/commands", "stdin.md", Utf8(content).Length.ToString()], write.Command.Skip(5));
        Assert.Equal(FakeKubeApiServer.V4ChannelProtocol, write.Protocol);
        Assert.DoesNotContain(Host.Cluster.ExecCalls, call => call.Command.Any(arg => arg.Contains("$(secret)", StringComparison.Ordinal)));
    }
}
