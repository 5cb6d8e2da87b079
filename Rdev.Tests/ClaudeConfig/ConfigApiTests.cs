using System.Net;
using System.Text;
using System.Text.Json;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>Scopes, routing and limits of the configuration API (on the local runtime; they do not depend on it).</summary>
public sealed class ConfigApiTests(LocalConfigHost host) : IClassFixture<LocalConfigHost>
{
    [Fact]
    public async Task ReadingNeedsConfigReadWritingNeedsConfigWriteAndOtherProjectsAreNotFound()
    {
        var (project, workspace) = await host.AddProjectAsync();
        var (other, _) = await host.AddProjectAsync();
        await CreateAsync(host.Api, project, "commands", "hello", "hi");
        var reader = await host.ClientWithScopesAsync(["config:read"]);
        var writer = await host.ClientWithScopesAsync(["config:write"], [project]);
        var commandsOnly = await host.ClientWithScopesAsync(["commands:run", "projects:read"]);

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Url(project, "commands"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Url(project, "commands", "hello"))).StatusCode);
        await (await reader.PostAsync(Url(project, "commands"), Json(new { name = "nope", content = "x" })))
            .AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await (await writer.GetAsync(Url(project, "commands"))).AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await (await commandsOnly.GetAsync(Url(project, "commands"))).AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsync(Url(project, "commands"), Json(new { name = "mine", content = "x" }))).StatusCode);
        await (await writer.PostAsync(Url(other, "commands"), Json(new { name = "theirs", content = "x" })))
            .AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.True(File.Exists(ItemFile(workspace, "commands", "mine")));
    }

    [Fact]
    public async Task AnUnknownTypeOrProjectIs404AndAProjectThatIsNotRunnableIs409()
    {
        var (project, _) = await host.AddProjectAsync();
        var (starting, _) = await host.AddProjectAsync(runnable: false);

        await (await host.Api.GetAsync(Url(project, "hooks"))).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await host.Api.GetAsync(Url(project, "Commands", "x"))).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await host.Api.PostAsync(Url(project, "..%2f"), Json(new { name = "x", content = "x" }))).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await host.Api.GetAsync(Url("nosuchproject", "commands"))).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await host.Api.GetAsync(Url(starting, "commands"))).AssertProblemAsync(HttpStatusCode.Conflict, "PROJECT_UNAVAILABLE");
        await (await host.Api.GetAsync(Url(project, "commands") + "?cursor=..")).AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task ABodyOverTheServersRequestLimitIs413AndAMillionByteContentIs400()
    {
        var kestrel = host.StartApi(kestrel: true);
        var (project, workspace) = await host.AddProjectAsync();
        await Eventually.TrueAsync(async () => (await kestrel.GetAsync($"/api/v1/projects/{project}")).IsSuccessStatusCode, "project visible");

        // As a careful client uploads a large body: it waits for the go-ahead (Expect: 100-continue), so the 413 comes
        // before any of the body, which otherwise could hit the connection Kestrel closes after its 413 (broken pipe).
        using var oversized = new HttpRequestMessage(HttpMethod.Post, Url(project, "agents"))
        {
            Content = Json(new { name = "huge", content = new string('x', 2_000_000) }),
        };
        oversized.Headers.ExpectContinue = true;
        var tooLarge = await kestrel.SendAsync(oversized);
        var million = await kestrel.PostAsync(Url(project, "agents"), Json(new { name = "million", content = new string('x', 1_000_000) }));

        await tooLarge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
        var problem = await million.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains("at most 262144 bytes", problem.GetProperty("errors").GetProperty("content")[0].GetString());
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task AnItemTooLargeToServeIs409AndAFileThatIsNotUtf8IsServedWithReplacementCharacters()
    {
        var (project, workspace) = await host.AddProjectAsync();
        var commands = Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(commands, "huge.md"), new byte[256 * 1024 + 1]);
        byte[] latin1 = [.. "caf"u8, 0xE9, .. "\n"u8];
        await File.WriteAllBytesAsync(Path.Combine(commands, "latin1.md"), latin1);

        var huge = await host.Api.GetAsync(Url(project, "commands", "huge"));
        var (item, etag) = await GetAsync(host.Api, project, "commands", "latin1");
        var staleHuge = await SendAsync(host.Api, HttpMethod.Put, Url(project, "commands", "huge"), new { content = "x" }, ifMatch: ETagOf(new byte[256 * 1024 + 1]));

        await huge.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Equal("caf\uFFFD\n", item.GetProperty("content").GetString());
        Assert.Equal(ETagOf(latin1), etag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleHuge.Status);
    }

    [Fact]
    public async Task FrontMatterKeepsItsKeysAndTypesAndAFileWithoutOneHasNone()
    {
        var (project, _) = await host.AddProjectAsync();
        var content = "---\nname: code-reviewer\nallowed_tools: [Read]\nmax-turns: 5\nbudget: 1.5\nenabled: true\nnothing:\n" +
            "nested: {deep: [1, two, {three: 3}]}\nquoted: \"42\"\n---\nbody";

        var (item, _) = (await CreateAsync(host.Api, project, "agents", "reviewer", content));
        var (plain, _) = (await CreateAsync(host.Api, project, "agents", "plain", "no front matter\n---\n"));

        var frontMatter = item.GetProperty("front_matter");
        Assert.Equal("""{"name":"code-reviewer","allowed_tools":["Read"],"max-turns":5,"budget":1.5,"enabled":true,"nothing":null,"nested":{"deep":[1,"two",{"three":3}]},"quoted":"42"}""",
            frontMatter.GetRawText());
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("front_matter").ValueKind);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryConfigurationEndpoint()
    {
        var document = JsonDocument.Parse(await host.Api.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");

        var collection = document.GetProperty("/api/v1/projects/{name}/claude-config/{type}");
        var item = document.GetProperty("/api/v1/projects/{name}/claude-config/{type}/{item}");
        foreach (var (operation, statuses) in new (JsonElement, string[])[]
                 {
                     (collection.GetProperty("get"), ["200", "400", "404", "409", "503"]),
                     (collection.GetProperty("post"), ["201", "400", "404", "409", "503"]),
                     (item.GetProperty("get"), ["200", "400", "404", "409", "503"]),
                     (item.GetProperty("put"), ["200", "400", "404", "409", "412", "428", "503"]),
                     (item.GetProperty("delete"), ["204", "400", "404", "409", "412", "503"]),
                 })
        {
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
            var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
            Assert.All(statuses, status => Assert.Contains(status, responses));
        }

        Assert.Contains(item.GetProperty("put").GetProperty("parameters").EnumerateArray(),
            p => p.GetProperty("name").GetString() == "If-Match" && p.GetProperty("in").GetString() == "header");
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
