using System.Net;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Observability;

[Collection(SerialCollection.Name)]
[Trait("Category", "Slow")]
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task MetricsShowRdevCountersWithRouteTemplatesAndUnknownPathsDoNotAddSeries()
    {
        var (factory, api) = host.StartReplica();
        var scraper = factory.CreateClient(); // scrapers carry no key
        await host.AddProjectAsync("metrics");
        await CommandsHost.WaitForProjectAsync(api, "metrics");
        var command = await CommandsHost.StartAsync(api, "metrics", "shell", new { command = "echo hi" });
        await CommandsHost.ReadStreamAsync(api, command.GetProperty("id").GetString()!);
        await api.GetAsync("/api/v1/projects/metrics");
        await api.GetAsync("/api/v1/no-such-thing-warmup");

        // The stream ends when the final event is stored; the finished count is added a moment after that, so a
        // scrape right after the stream may not show it yet.
        var before = await Eventually.ValueAsync(async () =>
        {
            var lines = await ScrapeAsync(scraper);
            var done = lines.Any(line => line.StartsWith("rdev_commands_finished_total{", StringComparison.Ordinal) && line.Contains("status=\"succeeded\""));
            return (done, lines);
        }, "the finished command is counted");
        Assert.Contains(before, line => line.StartsWith("rdev_commands_started_total{", StringComparison.Ordinal) && line.Contains("project=\"metrics\""));
        Assert.Contains(before, line => line.StartsWith("rdev_command_duration_seconds_bucket{", StringComparison.Ordinal));
        Assert.Contains(before, line => line.StartsWith("rdev_sse_events_sent_total", StringComparison.Ordinal));
        // Route templates, never raw paths.
        Assert.Contains(before, line => line.Contains("http_route=\"/api/v1/projects/{name}\""));
        Assert.DoesNotContain(before, line => line.Contains("/api/v1/projects/metrics\""));

        var tokens = Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString("N")).ToList();
        foreach (var token in tokens)
        {
            await api.GetAsync($"/api/v1/{token}/x");
            await api.GetAsync($"/{token}");
        }

        var after = await ScrapeAsync(scraper);
        Assert.DoesNotContain(after, line => tokens.Any(token => line.Contains(token, StringComparison.Ordinal)));
        var grown = Series(after).Except(Series(before)).ToList();
        Assert.True(grown.Count < 20, $"{grown.Count} new series after 2,000 requests to unknown paths:\n{string.Join('\n', grown.Take(30))}");
    }

    private static async Task<List<string>> ScrapeAsync(HttpClient scraper)
    {
        var response = await scraper.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync()).Split('\n').ToList();
    }

    // A series is a metric name with its labels; the value after the last space changes, the series does not.
    private static IEnumerable<string> Series(List<string> lines) =>
        lines.Where(line => line.Length > 0 && line[0] != '#').Select(line => line[..line.LastIndexOf(' ')]).Distinct();
}
