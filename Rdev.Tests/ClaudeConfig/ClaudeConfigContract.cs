using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>What every runtime must do with Claude Code configuration, verified on the files themselves.</summary>
public abstract class ClaudeConfigContract<THost>(THost host) where THost : ConfigHost
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

    [Fact]
    public async Task ShellMetacharactersQuotesAndCrlfArriveByteForByteAndRunNothing()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var content = "---\r\ndescription: \"$(touch pwned) `touch pwned`\"\r\n---\r\n" +
            "$(touch pwned) `touch pwned` ; rm -rf pwned | cat > pwned & echo ${IFS} $HOME \\ 'single' \"double\" %s %n\r\n" +
            "\t tabs, unicode: é 日本 \U0001F600, a lone CR\r and a final LF\n";

        var (body, etag) = await CreateAsync(Host.Api, project, "commands", "meta", content);
        var (read, _) = await GetAsync(Host.Replica, project, "commands", "meta");

        Assert.Equal(Utf8(content), await File.ReadAllBytesAsync(ItemFile(workspace, "commands", "meta")));
        Assert.Equal(content, read.GetProperty("content").GetString());
        Assert.Equal("$(touch pwned) `touch pwned`", read.GetProperty("front_matter").GetProperty("description").GetString());
        Assert.Equal(ETagOf(Utf8(content)), etag);
        Assert.Equal(Utf8(content).Length, body.GetProperty("size").GetInt32());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(Host.Outside)!, "pwned*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ContentUpTo256KibIsAcceptedAndOneByteMoreIsNot()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        // 'é' is two bytes of UTF-8: the limit counts bytes, not characters.
        var exact = new string('é', 128 * 1024);
        var over = exact[..^1] + "abc";

        var (body, _) = await CreateAsync(Host.Api, project, "agents", "big", exact);
        var rejected = await Host.Api.PostAsync(Url(project, "agents"), JsonContent(new { name = "bigger", content = over }));

        Assert.Equal(256 * 1024, body.GetProperty("size").GetInt32());
        Assert.Equal(Utf8(exact), await File.ReadAllBytesAsync(ItemFile(workspace, "agents", "big")));
        var problem = await rejected.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains("262144", problem.GetProperty("errors").GetProperty("content")[0].GetString());
        Assert.False(File.Exists(ItemFile(workspace, "agents", "bigger")));
    }

    [Fact]
    public async Task AMillionByteBodyNulBytesInvalidUtf8AndLoneSurrogatesAre400AndWriteNothing()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var url = Url(project, "commands");

        var million = await Host.Api.PostAsync(url, JsonContent(new { name = "million", content = new string('x', 1_000_000) }));
        var nul = await Host.Api.PostAsync(url, JsonContent(new { name = "nul", content = "a\0b" }));
        var invalidUtf8 = await SendRawAsync(Host.Api, HttpMethod.Post, url, [.. "{\"name\":\"bin\",\"content\":\""u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\"}"u8]);
        var surrogate = await SendRawAsync(Host.Api, HttpMethod.Post, url, Utf8("{\"name\":\"sur\",\"content\":\"a\\ud800b\"}"));
        var notJson = await SendRawAsync(Host.Api, HttpMethod.Post, url, Utf8("{\"name\":"));
        var missing = await Host.Api.PostAsync(url, JsonContent(new { name = "empty" }));

        foreach (var response in new[] { million, nul, invalidUtf8, surrogate, notJson, missing })
        {
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        }

        Assert.Contains("NUL", (await nul.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task MalformedFrontMatterIs400WithTheParsersLineAndColumn()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var content = "---\ndescription: fine\nallowed-tools: [Read, Grep\nmodel: sonnet\n---\nbody\n";

        var response = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "broken", content }));
        var unclosed = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "open", content = "---\ndescription: x\nbody" }));
        var duplicate = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "dup", content = "---\na: 1\na: 2\n---\n" }));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        var message = problem.GetProperty("errors").GetProperty("content")[0].GetString()!;
        Assert.Matches(@"^Front matter is not valid YAML at line 3, column \d+: ", message);
        Assert.Contains("line 1, column 1", (await unclosed.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).ToString());
        Assert.Contains("line 3, column 1: The key 'a' appears twice.",
            (await duplicate.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).ToString());
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task AHundredHostileNamesAre400AndNothingIsWrittenAnywhere()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        await CreateAsync(Host.Api, project, "commands", "existing", "keep me");
        var before = Snapshot(Host.Root.FullName);
        Assert.True(HostileNames.All.Count >= 100, $"{HostileNames.All.Count} names");

        var failures = new List<string>();
        foreach (var name in HostileNames.All)
        {
            foreach (var type in Types)
            {
                var posted = await Host.Api.PostAsync(Url(project, type), JsonContent(new { name, content = "pwned" }));
                Check(posted.StatusCode, posted.Content.Headers.ContentType?.MediaType, $"POST {type} {JsonSerializer.Serialize(name)}");
                if (name.Length == 0)
                {
                    continue; // An empty segment names the collection, not an item.
                }

                foreach (var method in new[] { "GET", "PUT", "DELETE" })
                {
                    var (status, contentType) = await Host.SendExactAsync(method, Url(project, type) + "/" + Uri.EscapeDataString(name),
                        method == "PUT" ? """{"content":"pwned"}""" : null);
                    Check(status, contentType, $"{method} {type} {JsonSerializer.Serialize(name)}");
                }
            }
        }

        Assert.Empty(failures);
        Assert.Equal(before, Snapshot(Host.Root.FullName));
        Assert.Equal("keep me", await File.ReadAllTextAsync(ItemFile(workspace, "commands", "existing")));

        void Check(HttpStatusCode status, string? contentType, string what)
        {
            if (status != HttpStatusCode.BadRequest || contentType != "application/problem+json")
            {
                failures.Add($"{what}: {(int)status} {contentType}");
            }
        }
    }

    [Fact]
    public async Task ASymbolicLinkOnTheItemsPathIsRefusedAndNothingOutsideChanges()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        Directory.CreateDirectory(Path.Combine(workspace, ".claude"));
        Directory.CreateSymbolicLink(Path.Combine(workspace, ".claude/agents"), Host.Outside);
        Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands"));
        File.CreateSymbolicLink(Path.Combine(workspace, ".claude/commands/keep.md"), Path.Combine(Host.Outside, "keep.txt"));
        var before = Snapshot(Host.Outside);

        var created = await Host.Api.PostAsync(Url(project, "agents"), JsonContent(new { name = "keep", content = new string('p', 250_000) }));
        var listed = await Host.Api.GetAsync(Url(project, "agents"));
        var read = await Host.Api.GetAsync(Url(project, "commands", "keep"));
        // Large enough that the script refuses before the content has all been sent.
        var replaced = await SendAsync(Host.Api, HttpMethod.Put, Url(project, "commands", "keep"), new { content = new string('p', 250_000) }, ifMatch: "*");
        var deleted = await SendAsync(Host.Api, HttpMethod.Delete, Url(project, "commands", "keep"));
        // Not a link but a folder where the file belongs: the write refuses, possibly before it has read its stdin.
        Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands/folder.md"));
        var shadowed = await Host.Api.PostAsync(Url(project, "commands"), JsonContent(new { name = "folder", content = new string('p', 250_000) }));

        await created.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await listed.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await read.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (replaced.Status, deleted.Status));
        await shadowed.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(workspace, ".claude/commands/folder.md")));
        Assert.Empty(TemporaryFiles(workspace));
        Assert.Equal(before, Snapshot(Host.Outside));
        Assert.Equal("untouched", await File.ReadAllTextAsync(Path.Combine(Host.Outside, "keep.txt")));
    }

    [Fact]
    public async Task CreatingAnExistingNameIs409AndReplacingNeedsACurrentETag()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "skills", "deploy", "v1");
        var url = Url(project, "skills", "deploy");

        var again = await Host.Replica.PostAsync(Url(project, "skills"), JsonContent(new { name = "deploy", content = "v2" }));
        var noPrecondition = await Host.Api.PutAsync(url, JsonContent(new { content = "v2" }));
        var (_, _, newETag) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v2" }, ifMatch: etag);
        var (staleStatus, stale, _) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: etag);
        var (weakStatus, _, _) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: "W/" + newETag);
        var (listStatus, _, listETag) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: $"\"nope\", {newETag}");
        var (staleDelete, _, _) = await SendAsync(Host.Api, HttpMethod.Delete, url, ifMatch: newETag);
        var (starStatus, _, _) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v4" }, ifMatch: "*");
        var (badHeader, _, _) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v5" }, ifMatch: "not-quoted");
        var (missingStatus, _, _) = await SendAsync(Host.Api, HttpMethod.Put, Url(project, "skills", "missing"), new { content = "x" }, ifMatch: "*");

        await again.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await noPrecondition.AssertProblemAsync(HttpStatusCode.PreconditionRequired, "PRECONDITION_REQUIRED");
        Assert.Equal((HttpStatusCode.PreconditionFailed, "PRECONDITION_FAILED"), (staleStatus, stale.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.PreconditionFailed, weakStatus);
        Assert.Equal((HttpStatusCode.OK, ETagOf(Utf8("v3"))), (listStatus, listETag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleDelete);
        Assert.Equal(HttpStatusCode.OK, starStatus);
        Assert.Equal(HttpStatusCode.BadRequest, badHeader);
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.Equal("v4", await File.ReadAllTextAsync(ItemFile(workspace, "skills", "deploy")));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(Host.Api, HttpMethod.Delete, url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(Host.Api, HttpMethod.Delete, url)).Status);
        Assert.Equal(["config.created", "config.updated", "config.updated", "config.updated", "config.deleted"],
            (await AuditAsync(project)).Select(a => a.Action));
    }

    [Fact]
    public async Task TwoEditorsWithTheSameETagOnTwoReplicasNeverBothWin()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "commands", "race", "round 0");
        var url = Url(project, "commands", "race");

        for (var round = 1; round <= 20; round++)
        {
            var (a, b) = ($"round {round} from A", $"round {round} from B");
            var results = await Task.WhenAll(
                SendAsync(Host.Api, HttpMethod.Put, url, new { content = a }, ifMatch: etag),
                SendAsync(Host.Replica, HttpMethod.Put, url, new { content = b }, ifMatch: etag));

            var statuses = results.Select(r => r.Status).Order().ToArray();
            Assert.True(statuses.SequenceEqual([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed]), $"round {round}: {string.Join(", ", statuses)}");
            var winner = results[0].Status == HttpStatusCode.OK ? a : b;
            Assert.Equal(winner, await File.ReadAllTextAsync(ItemFile(workspace, "commands", "race")));
            etag = results.Single(r => r.Status == HttpStatusCode.OK).ETag!;
        }

        var creates = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            SendAsync(i % 2 == 0 ? Host.Api : Host.Replica, HttpMethod.Post, Url(project, "agents"), new { name = "once", content = $"writer {i}" })));
        Assert.Equal(1, creates.Count(r => r.Status == HttpStatusCode.Created));
        Assert.Equal(3, creates.Count(r => r.Status == HttpStatusCode.Conflict));
        Assert.Empty(TemporaryFiles(workspace));
    }

    [Fact]
    public async Task AChangeWaitsWhileAnotherReplicaHoldsTheItemsLock()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "agents", "held", "v1");
        await using var holder = new NpgsqlConnection(Host.Database.ConnectionString);
        await holder.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock(hashtextextended('claude-config/{project}/agents/held', 0))", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var put = SendAsync(Host.Replica, HttpMethod.Put, Url(project, "agents", "held"), new { content = "v2" }, ifMatch: etag);
        await Task.Delay(1000);
        var waited = !put.IsCompleted;
        var fileWhileHeld = await File.ReadAllTextAsync(ItemFile(workspace, "agents", "held"));
        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.True(waited);
        Assert.Equal("v1", fileWhileHeld);
        Assert.Equal(HttpStatusCode.OK, (await put).Status);
        Assert.Equal("v2", await File.ReadAllTextAsync(ItemFile(workspace, "agents", "held")));
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
