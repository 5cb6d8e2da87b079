using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Rdev.Discovery.Kubernetes;
using Rdev.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rdev.Tests.Discovery;

[Trait("Category", "Slow")]
public sealed class KubernetesChaosTests(ITestOutputHelper output)
{
    private const string Ns = DiscoveryHarness.Namespace;
    private static readonly TimeSpan Bookmarks = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task AfterFiftyKilledWatchesAndTenForced410sTheApiListEqualsTheClusterExactly()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync();
        h.Cluster.BookmarkInterval = Bookmarks;
        using var events = new MetricCollector<long>(
            h.Discovery!.Services.GetRequiredService<IMeterFactory>(), "Rdev.Discovery", "rdev_discovery_events_total");
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var names = Enumerable.Range(0, 30).Select(i => $"chaos-{i:00}").ToArray();
        using var churnGate = new SemaphoreSlim(1, 1);
        using var stop = new CancellationTokenSource();

        var churn = Task.Run(() => ChurnAsync(h, names, new Random(seed), churnGate, stop.Token));
        var (killedConnections, forced) = await DisruptAsync(h, new Random(seed + 1), churnGate);
        await stop.CancelAsync();
        await churn;

        var truth = ClusterTruth(h, names);
        await Eventually.TrueAsync(
            () => RegistryView(h, names).SequenceEqual(truth),
            "the registry equals the cluster", TimeSpan.FromSeconds(30));
        var expired = events.GetMeasurementSnapshot().Where(m => (string?)m.Tags["type"] == "watch_expired").Sum(m => m.Value);
        output.WriteLine($"killed {killedConnections} watch connections, forced {forced} compactions, saw {expired} 410s, {truth.Count} live projects");

        var listed = await h.Client().GetFromJsonAsync<JsonElement>("/api/v1/projects?limit=500");
        Assert.Equal(truth, [.. listed.GetProperty("items").EnumerateArray()
            .Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("status").GetString()!))]);
        Assert.True(killedConnections >= 50, $"only {killedConnections} connections were killed");
        // Each forced compaction expires both watches (pods and the ConfigMap); at least one per compaction must show.
        Assert.True(expired >= forced, $"only {expired} watches saw 410 Gone after {forced} compactions");
        Assert.All(names.Except(truth.Select(t => t.Name)), name => Assert.True(h.Find(name) is null or { Status: "gone" }, name));
    }

    private static async Task ChurnAsync(DiscoveryHarness h, string[] names, Random random, SemaphoreSlim gate, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                var name = names[random.Next(names.Length)];
                var pod = h.Cluster.GetPod(Ns, name);
                switch (random.Next(10))
                {
                    case < 5 when pod is null:
                        h.CreatePod(name, ready: random.Next(2) == 0);
                        break;
                    case < 4:
                        h.Cluster.DeletePod(Ns, name);
                        break;
                    case < 7:
                        h.Cluster.SetPodReady(Ns, name, random.Next(2) == 0);
                        break;
                    case < 10 when pod is not null:
                        h.Cluster.UpdatePod(Ns, name, p => p.Metadata.Labels["rdev.orchard9.ai/project"] =
                            p.Metadata.Labels["rdev.orchard9.ai/project"] == "true" ? "false" : "true");
                        break;
                }
            }
            catch (Kubernetes.KubeStatusException)
            {
                // The pod was not there (or already was): the next round picks again.
            }
            finally
            {
                gate.Release();
            }

            await Task.Delay(random.Next(0, 8), CancellationToken.None);
        }
    }

    /// <summary>At random moments, kill every open watch connection until at least 50 died; after every fifth kill, force a 410.</summary>
    private static async Task<(int Killed, int Forced)> DisruptAsync(DiscoveryHarness h, Random random, SemaphoreSlim churnGate)
    {
        var killed = 0;
        var forced = 0;
        for (var round = 1; killed < 50 || forced < 10; round++)
        {
            if (round % 6 == 0 && forced < 10)
            {
                await ForceExpiryAsync(h, churnGate);
                forced++;
                continue;
            }

            await h.Cluster.WaitForWatchesAsync(1, TimeSpan.FromSeconds(20));
            await Task.Delay(random.Next(0, 40)); // A random moment: the chaos itself.
            var open = h.Cluster.OpenWatchCount;
            h.Cluster.AbortAllWatches();
            killed += open;
        }

        return (killed, forced);
    }

    /// <summary>
    /// Leaves the watches behind the cluster and compacts, so the watch that resumes after the clean close gets 410 Gone:
    /// with the churn paused and bookmarks off, a change the watches do not select moves the global resourceVersion.
    /// </summary>
    private static async Task ForceExpiryAsync(DiscoveryHarness h, SemaphoreSlim churnGate)
    {
        await churnGate.WaitAsync();
        try
        {
            await WaitForSettledWatchesAsync(h);
            h.Cluster.BookmarkInterval = null;
            // A bookmark already due may still go out; two intervals later none can. A quiet period is the point here.
            await Task.Delay(Bookmarks * 2);
            h.Cluster.UpsertConfigMap(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = "unrelated", NamespaceProperty = Ns },
                Data = new Dictionary<string, string> { ["at"] = DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            });
            h.Cluster.Compact();
            h.Cluster.EndAllWatches();
        }
        finally
        {
            h.Cluster.BookmarkInterval = Bookmarks;
            churnGate.Release();
        }
    }

    /// <summary>Both watches open and no new request for a while: each has had bookmarks, so each has returned to the client.</summary>
    private static async Task WaitForSettledWatchesAsync(DiscoveryHarness h)
    {
        var requests = -1;
        await Eventually.TrueAsync(async () =>
        {
            var before = h.Cluster.Requests.Count;
            await Task.Delay(Bookmarks * 5);
            var settled = h.Cluster.OpenWatchCount >= 2 && h.Cluster.Requests.Count == before && before == requests;
            requests = before;
            return settled;
        }, "the watches settle");
    }

    private static List<(string Name, string Status)> ClusterTruth(DiscoveryHarness h, string[] names) =>
    [
        .. names.Select(name => h.Cluster.GetPod(Ns, name))
            .Where(pod => pod?.Metadata.Labels["rdev.orchard9.ai/project"] == "true")
            .Select(pod => (pod!.Metadata.Name, ClusterProjects.StatusOf(pod)))
            .OrderBy(p => p.Name, StringComparer.Ordinal),
    ];

    private static List<(string Name, string Status)> RegistryView(DiscoveryHarness h, string[] names) =>
    [
        .. h.Registry.All.Where(p => !p.IsGone && names.Contains(p.Name)).Select(p => (p.Name, p.Status)),
    ];
}
