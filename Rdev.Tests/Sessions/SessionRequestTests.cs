using System.Net;
using System.Net.Http.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Sessions;

/// <summary>Requests to the session endpoints that rdev refuses before any session is involved.</summary>
[Trait("Category", "Slow")]
public sealed class SessionRequestTests(SessionRequestTests.Fixture fixture) : IClassFixture<SessionRequestTests.Fixture>
{
    private readonly HttpClient api = fixture.Api;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly CommandsHost host = new();

        public HttpClient Api { get; private set; } = null!;

        public string Shell { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await host.InitializeAsync();
            Api = host.StartApi();
            await host.AddProjectAsync("plain");
            await CommandsHost.WaitForProjectAsync(Api, "plain");
            Shell = (await CommandsHost.StartAsync(Api, "plain", "shell", new { command = "true" })).GetProperty("id").GetString()!;
            await CommandsHost.WaitForFinalAsync(Api, Shell);
        }

        public Task DisposeAsync() => host.DisposeAsync();
    }

    [Theory]
    [InlineData("messages")]
    [InlineData("interrupt")]
    [InlineData("close")]
    public async Task ACommandThatIsNotAClaudeSessionIsAConflict(string action)
    {
        var response = await api.PostAsJsonAsync($"/api/v1/commands/{fixture.Shell}/{action}", new { text = "hello" });
        await response.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
    }

    [Theory]
    [InlineData("messages", """{"text":""}""", "text")]
    [InlineData("messages", """{"text":"nul \u0000"}""", "text")]
    [InlineData("approvals/019abf5f-0a11-7c3d-8e20-5a6b7c8d9e01", """{"decision":"maybe"}""", "decision")]
    [InlineData("approvals/019abf5f-0a11-7c3d-8e20-5a6b7c8d9e01", """{"decision":"deny","updated_input":{"a":1}}""", "updated_input")]
    public async Task AnInvalidBodyIs400NamingTheField(string action, string body, string field)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        var response = await api.PostAsync($"/api/v1/commands/{fixture.Shell}/{action}", content);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task UnknownCommandsAndApprovalsAre404()
    {
        var unknown = Guid.CreateVersion7();
        await (await api.GetAsync($"/api/v1/commands/{unknown}/approvals")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await api.PostAsJsonAsync($"/api/v1/commands/{unknown}/interrupt", new { }))
            .AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await api.PostAsJsonAsync($"/api/v1/commands/{fixture.Shell}/approvals/{unknown}", new { decision = "allow" }))
            .AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Empty((await SessionClient.ApprovalsAsync(api, fixture.Shell)));
    }

    [Fact]
    public async Task AFeedLastEventIdThatIsNotAnEventIdIs400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        request.Headers.Add("Last-Event-ID", "yesterday");
        var response = await api.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task TheFeedReplaysAShellCommandsLifecycle()
    {
        var seen = await SessionClient.ReadFeedAsync(api,
            e => SessionClient.Field(e, "id") == fixture.Shell && SessionClient.Field(e, "status") == "succeeded", query: "?project=plain");
        Assert.Equal(["queued", "running", "succeeded"], seen.Select(e => SessionClient.Field(e, "status")));
        Assert.All(seen, e => Assert.Equal("command", e.EventType));
    }
}
