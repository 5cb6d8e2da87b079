using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>GET /api/v1/projects and /api/v1/projects/{name} over HTTP, fed by discovery from a fake cluster.</summary>
public sealed class ProjectsApiTests(SharedKubernetesDiscovery shared) : IClassFixture<SharedKubernetesDiscovery>, IAsyncLifetime
{
    private const string Ns = DiscoveryHarness.Namespace;

    private readonly DiscoveryHarness h = shared.Harness;

    public Task InitializeAsync() => h.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ListPagesByNameLeavesGoneProjectsOutUnlessAskedAndSpeaksSnakeCase()
    {
        foreach (var name in new[] { "echo", "alpha", "delta", "bravo", "charlie" })
        {
            h.CreatePod($"{name}-0", name, new Dictionary<string, string> { ["rdev.orchard9.ai/description"] = $"{name} service" }, ready: true);
        }
        await h.WaitForStatusAsync("delta", "running");
        h.Cluster.DeletePod(Ns, "delta-0");
        await h.WaitForStatusAsync("delta", "gone");
        await h.WaitForStatusAsync("echo", "running");
        var client = h.Client();

        var names = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/projects?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);
        var withGone = await client.GetFromJsonAsync<JsonElement>("/api/v1/projects?include_gone=true");
        var alpha = (await client.GetFromJsonAsync<JsonElement>("/api/v1/projects")).GetProperty("items")[0];

        Assert.Equal(["alpha", "bravo", "charlie", "echo"], names);
        Assert.Equal(2, pages);
        Assert.Equal("gone", withGone.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "delta").GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, withGone.GetProperty("next_cursor").ValueKind);
        Assert.Equal(
            ["name", "status", "description", "runtime", "pod", "workspace", "allowed_commands", "max_concurrent_commands", "runnable", "updated_at"],
            alpha.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("alpha", "running", "alpha service", "kubernetes", "/workspace", 5, true),
            (alpha.GetProperty("name").GetString(), alpha.GetProperty("status").GetString(), alpha.GetProperty("description").GetString(),
             alpha.GetProperty("runtime").GetString(), alpha.GetProperty("workspace").GetString(),
             alpha.GetProperty("max_concurrent_commands").GetInt32(), alpha.GetProperty("runnable").GetBoolean()));
        Assert.Equal("""{"namespace":"default","name":"alpha-0","container":"main"}""", alpha.GetProperty("pod").GetRawText());
    }

    [Fact]
    public async Task GetShowsOneProjectAndAGoneOneAndIsNotFoundForUnknownNames()
    {
        h.CreatePod("alpha-0", "alpha", ready: true);
        h.CreatePod("old-0", "old");
        await h.WaitForStatusAsync("alpha", "running");
        h.Cluster.DeletePod(Ns, "old-0");
        await h.WaitForStatusAsync("old", "gone");
        var client = h.Client();

        var alpha = await client.GetFromJsonAsync<JsonElement>("/api/v1/projects/alpha");
        var old = await client.GetFromJsonAsync<JsonElement>("/api/v1/projects/old");
        var unknown = await client.GetAsync("/api/v1/projects/nope");

        Assert.Equal(("running", true), (alpha.GetProperty("status").GetString(), alpha.GetProperty("runnable").GetBoolean()));
        Assert.Equal(("gone", false), (old.GetProperty("status").GetString(), old.GetProperty("runnable").GetBoolean()));
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task AKeyRestrictedToSomeProjectsSeesOnlyThoseAndTheOthersLookUnknown()
    {
        h.CreatePod("alpha-0", "alpha");
        h.CreatePod("beta-0", "beta");
        await h.WaitForStatusAsync("beta", "starting");
        await h.WaitForStatusAsync("alpha", "starting");
        var key = await h.CreateKeyAsync(["projects:read"], ["alpha"]);
        var client = h.Client(key);

        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/projects");
        var hidden = await client.GetAsync("/api/v1/projects/beta");
        var unknown = await client.GetAsync("/api/v1/projects/nope");

        Assert.Equal(["alpha"], list.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        var hiddenBody = await hidden.AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        var unknownBody = await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Equal(hiddenBody.GetProperty("title").GetString(), unknownBody.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects/alpha")).StatusCode);
    }

    [Fact]
    public async Task ProjectsNeedAKeyWithTheProjectsReadScope()
    {
        var other = await h.CreateKeyAsync(["commands:read"]);

        var anonymous = await h.Client(key: null).GetAsync("/api/v1/projects");
        var wrongScope = await h.Client(other).GetAsync("/api/v1/projects");

        await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await wrongScope.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("cursor=%21%21%21", "cursor")]
    public async Task ABadLimitOrCursorIsAValidationProblem(string query, string field)
    {

        var response = await h.Client().GetAsync($"/api/v1/projects?{query}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesBothEndpointsWithExamples()
    {

        var paths = (await h.Client(key: null).GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");

        var list = paths.GetProperty("/api/v1/projects").GetProperty("get");
        var show = paths.GetProperty("/api/v1/projects/{name}").GetProperty("get");
        Assert.Equal("pantheon", list.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json")
            .GetProperty("example").GetProperty("items")[0].GetProperty("name").GetString());
        Assert.True(show.GetProperty("responses").TryGetProperty("404", out _));
        Assert.Contains(list.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "include_gone");
    }
}
