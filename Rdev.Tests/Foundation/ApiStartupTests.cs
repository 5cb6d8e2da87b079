using System.Net;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Foundation;

public sealed class ApiStartupTests(EmptyPostgresDatabase database) : IClassFixture<EmptyPostgresDatabase>, IAsyncLifetime
{
    private ApiFactory factory = null!;
    private HttpClient client = null!;

    public Task InitializeAsync()
    {
        factory = new ApiFactory(database.ConnectionString);
        client = factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await factory.DisposeAsync();

    [Fact]
    public async Task HealthAndReadyAnswer200WhenTheDatabaseIsUp()
    {
        var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var ready = await client.GetAsync("/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadyIsA503ProblemWhileTheDatabaseRefusesConnectionsAndRecoversAfter()
    {
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ready")).StatusCode);

        await database.ExecuteOnServerAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS false");
        await database.ExecuteOnServerAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}'");
        try
        {
            var notReady = await PollUntilAsync("/ready", HttpStatusCode.ServiceUnavailable);
            var problem = await notReady.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "NOT_READY");
            Assert.Equal("unhealthy", problem.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
            Assert.DoesNotContain("Password", problem.ToString(), StringComparison.OrdinalIgnoreCase);

            // Liveness does not depend on the database: Kubernetes must not restart a pod for a database outage.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        }
        finally
        {
            await database.ExecuteOnServerAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS true");
        }

        await PollUntilAsync("/ready", HttpStatusCode.OK);
    }

    [Fact]
    public async Task UnknownRouteIsANotFoundProblem()
    {
        var response = await client.GetAsync("/api/v1/no-such-thing");
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task OpenApiDocumentIsOpenApi31AndTheDocsPageServes()
    {
        var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString());
        Assert.Equal("rdev API", document.GetProperty("info").GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Object, document.GetProperty("paths").ValueKind);

        var docs = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task StartupCreatesEveryTableTheSpecNeeds()
    {
        await client.GetAsync("/health");
        foreach (var table in new[] { "api_keys", "projects", "commands", "command_events", "audit_log" })
        {
            Assert.True(await database.ScalarAsync<bool>($"SELECT to_regclass('public.{table}') IS NOT NULL"), table);
        }
    }

    private Task<HttpResponseMessage> PollUntilAsync(string path, HttpStatusCode expected) =>
        Eventually.ValueAsync(async () =>
        {
            var response = await client.GetAsync(path);
            return (response.StatusCode == expected, response);
        }, $"{path} answers {(int)expected}", TimeSpan.FromSeconds(15));
}
