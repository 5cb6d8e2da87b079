using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Rdev.Api.Projects;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>Discovery and the registry through outages: the Kubernetes API, the schema, discovery itself.</summary>
public sealed class DiscoveryResilienceTests
{
    private const string Ns = DiscoveryHarness.Namespace;

    [Fact]
    public async Task ReadyReportsTheDatabaseAndLiveWatches()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync();
        var client = h.Discovery!.CreateClient();

        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "discovery is ready");
        var body = JsonDocument.Parse(await client.GetStringAsync("/ready")).RootElement;

        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        var discovery = body.GetProperty("checks").GetProperty("discovery");
        Assert.Equal("healthy", discovery.GetProperty("status").GetString());
        Assert.Contains("pods: Watching", discovery.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task RepeatedApiServerFailuresOpenTheCircuitWhichReadyAndTheGaugeShowThenItRecovers()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync(new Dictionary<string, string?> { ["Rdev:ReadyGracePeriod"] = "00:00:00.200" });
        var client = h.Discovery!.CreateClient();
        using var gauge = new MetricCollector<int>(
            h.Discovery.Services.GetRequiredService<IMeterFactory>(), "Rdev.Discovery", "rdev_kubernetes_circuit_state");
        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "discovery is ready");

        h.Cluster.FailNext(503, $"/api/v1/namespaces/{Ns}/pods", count: 12);
        h.Cluster.AbortAllWatches();

        await Eventually.TrueAsync(() => CircuitState(gauge) == 2, "the circuit opens");
        await Eventually.TrueAsync(async () =>
        {
            var response = await client.GetAsync("/ready");
            return response.StatusCode == HttpStatusCode.ServiceUnavailable
                && (await response.Content.ReadAsStringAsync()).Contains("Circuit open", StringComparison.Ordinal);
        }, "/ready says the circuit is open");
        await Eventually.TrueAsync(() => CircuitState(gauge) == 0, "the circuit closes again");
        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "discovery is ready again");

        h.CreatePod("after-0", "after");
        await h.WaitForStatusAsync("after", "starting");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task DiscoveryStartedBeforeTheApiRetriesUntilTheTableExistsThenPublishes()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync(startApi: false);
        h.CreatePod("early-0", "early", ready: true);

        await Eventually.TrueAsync(
            () => h.Discovery!.Messages(LogLevel.Warning).Any(m => m.Contains("projects table does not exist yet", StringComparison.Ordinal)),
            "discovery reports the missing table");
        h.StartApi();

        await h.WaitForStatusAsync("early", "running");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task TheApiKeepsServingTheLastKnownStateWhileDiscoveryIsDownAndCatchesUpAfterItsRestart()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync();
        h.CreatePod("steady-0", "steady", ready: true);
        h.CreatePod("leaving-0", "leaving", ready: true);
        var steady = await h.WaitForStatusAsync("steady", "running");
        await h.WaitForStatusAsync("leaving", "running");

        await h.StopDiscoveryAsync();
        h.Cluster.DeletePod(Ns, "leaving-0");
        Assert.Equal("running", h.Find("leaving")!.Status);

        h.StartDiscovery();
        await h.WaitForStatusAsync("leaving", "gone");

        // The restart rewrote nothing that had not changed.
        Assert.Equal(steady.UpdatedAt, h.Find("steady")!.UpdatedAt);
    }

    [Fact]
    public async Task EveryApiReplicaSeesEachChange()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync();
        await using var second = h.StartApi();
        var secondRegistry = second.Services.GetRequiredService<ProjectRegistry>();

        h.CreatePod("shared-0", "shared", ready: true);
        await h.WaitForStatusAsync("shared", "running");
        await Eventually.TrueAsync(() => secondRegistry.TryGet("shared", out var p) && p.Status == "running", "the second replica sees it");
        h.Cluster.DeletePod(Ns, "shared-0");

        await Eventually.TrueAsync(() => secondRegistry.TryGet("shared", out var p) && p.IsGone, "the second replica sees it go");
        await h.WaitForStatusAsync("shared", "gone");
    }

    [Fact]
    public async Task RowsDeletedByHandAreRestoredByThePeriodicFullWrite()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync(new Dictionary<string, string?> { ["Rdev:ResyncInterval"] = "00:00:00.300" });
        h.CreatePod("manual-0", "manual", ready: true);
        await h.WaitForStatusAsync("manual", "running");

        await h.Database.ScalarAsync<int>("WITH d AS (DELETE FROM projects RETURNING 1) SELECT count(*)::int FROM d");

        await Eventually.TrueAsync(async () => await h.Database.ScalarAsync<string>("SELECT status FROM projects WHERE name = 'manual'") == "running",
            "the row is back");
    }

    private static int? CircuitState(MetricCollector<int> gauge)
    {
        gauge.RecordObservableInstruments();
        return gauge.LastMeasurement?.Value;
    }
}
