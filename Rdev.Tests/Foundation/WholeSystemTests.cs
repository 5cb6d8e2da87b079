using System.Net;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rdev.Tests.Foundation;

/// <summary>The whole AppHost: the real PostgreSQL server as an executable, api, discovery and console as processes.</summary>
[Trait("Category", "Slow")]
public sealed class WholeSystemTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task AppHostStartsPostgresApiDiscoveryAndConsoleAndTheyAnswer()
    {
        var state = Directory.CreateTempSubdirectory("rdev-apphost-");
        try
        {
            // The postgres user must be able to reach the data folder when the tests run as root.
            File.SetUnixFileMode(state.FullName, (UnixFileMode)0b111_101_101);
            using var cts = new CancellationTokenSource(StartTimeout);
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Rdev_AppHost>(
                ["Rdev:Postgres=executable", $"Rdev:StateDirectory={state.FullName}"], cts.Token);
            builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));

            await using var app = await builder.BuildAsync(cts.Token).WaitAsync(StartTimeout);
            await app.StartAsync(cts.Token).WaitAsync(StartTimeout);

            await app.ResourceNotifications.WaitForResourceHealthyAsync("rdevdb", cts.Token).WaitAsync(StartTimeout);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("api", cts.Token).WaitAsync(StartTimeout);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("discovery", cts.Token).WaitAsync(StartTimeout);

            using var api = app.CreateHttpClient("api");
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/health", cts.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/ready", cts.Token)).StatusCode);

            var openApi = await api.GetAsync("/openapi/v1.json", cts.Token);
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
            var document = JsonDocument.Parse(await openApi.Content.ReadAsStringAsync(cts.Token)).RootElement;
            Assert.StartsWith("3.1", document.GetProperty("openapi").GetString());

            using var discovery = app.CreateHttpClient("discovery");
            Assert.Equal(HttpStatusCode.OK, (await discovery.GetAsync("/ready", cts.Token)).StatusCode);

            // The console serves its sign-in page; it finds the api through service discovery (docs/console.md).
            await app.ResourceNotifications.WaitForResourceHealthyAsync("console", cts.Token).WaitAsync(StartTimeout);
            using var console = app.CreateHttpClient("console");
            var signIn = await console.GetStringAsync("/signin", cts.Token);
            Assert.Contains("API key", signIn, StringComparison.Ordinal);

            // The first run seeds a sample git project in the local projects root.
            Assert.True(Directory.Exists(Path.Combine(state.FullName, "projects", "hello", ".git")));
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }
}
