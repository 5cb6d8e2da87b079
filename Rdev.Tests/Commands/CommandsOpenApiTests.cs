using System.Text.Json;

namespace Rdev.Tests.Commands;

/// <summary>Every case only reads the OpenAPI document, so the cases share one host (and its database).</summary>
public sealed class CommandsOpenApiTests(CommandsOpenApiTests.Fixture fixture) : IClassFixture<CommandsOpenApiTests.Fixture>
{
    private readonly HttpClient api = fixture.Api;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly CommandsHost host = new();

        public HttpClient Api { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await host.InitializeAsync();
            Api = host.StartApi();
        }

        public Task DisposeAsync() => host.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/v1/projects/{name}/claude", "post", "202")]
    [InlineData("/api/v1/projects/{name}/git", "post", "202")]
    [InlineData("/api/v1/projects/{name}/shell", "post", "202")]
    [InlineData("/api/v1/projects/{name}/commands", "get", "200")]
    [InlineData("/api/v1/commands/{id}", "get", "200")]
    [InlineData("/api/v1/commands/{id}/cancel", "post", "202")]
    [InlineData("/api/v1/commands/{id}/approvals", "get", "200")]
    [InlineData("/api/v1/commands/{id}/approvals/{approvalId}", "post", "200")]
    [InlineData("/api/v1/commands/{id}/messages", "post", "202")]
    [InlineData("/api/v1/commands/{id}/interrupt", "post", "202")]
    [InlineData("/api/v1/commands/{id}/close", "post", "202")]
    [InlineData("/api/v1/projects/{name}/claude-config/{type}", "get", "200")]
    [InlineData("/api/v1/projects/{name}/claude-config/{type}", "post", "201")]
    [InlineData("/api/v1/projects/{name}/claude-config/{type}/{item}", "get", "200")]
    [InlineData("/api/v1/projects/{name}/claude-config/{type}/{item}", "put", "200")]
    public async Task EveryCommandAndConfigEndpointIsDocumentedWithItsAnswersAndAnExample(string path, string method, string success)
    {
        var document = JsonDocument.Parse(await api.GetStringAsync("/openapi/v1.json")).RootElement;
        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        var responses = operation.GetProperty("responses");
        foreach (var status in new[] { success, "401", "403", "429" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"{method} {path} documents {status}");
        }

        Assert.True(responses.GetProperty(success).GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _));
        string[] bodiless = ["/cancel", "/interrupt", "/close"];
        if (method is "post" or "put" && !bodiless.Any(end => path.EndsWith(end, StringComparison.Ordinal)))
        {
            Assert.True(operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _));
        }
    }
}
