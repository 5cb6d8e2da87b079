using System.Globalization;
using System.Net.Http.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Api.Projects;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Discovery;

/// <summary>
/// One test's whole discovery path: an <see cref="ApiHost"/> (a fresh database and the API, which migrates it and keeps
/// the <see cref="ProjectRegistry"/>), the discovery service, and for the kubernetes runtime a fake API server.
/// </summary>
public sealed class DiscoveryHarness : IAsyncDisposable
{
    public const string Namespace = "default";
    public const string ConfigMapName = "rdev-projects";
    public const string AdminKey = "rdev_discoveryadmin_Hq7Wm2Zp9Lx4Cv8Rb3Nt6Ys1Kd5Fg0Ja";

    private readonly Dictionary<string, string?> settings;
    private readonly KubernetesClientConfiguration? kubernetes;

    // The API side: the database, its replicas and the fake API server, all stopped with the harness.
    private readonly ApiHost host;

    private DiscoveryHarness(ApiHost host, FakeKubeApiServer? kube, Dictionary<string, string?> settings)
    {
        this.host = host;
        Kube = kube;
        this.settings = settings;
        kubernetes = kube is null ? null : new KubernetesClientConfiguration { Host = kube.Url };
    }

    public PostgresDatabase Database => host.Database;

    public FakeKubeApiServer? Kube { get; }

    public FakeKubeApiServer Cluster => Kube ?? throw new InvalidOperationException("Not a kubernetes harness.");

    public ApiFactory? Api { get; private set; }

    public DiscoveryFactory? Discovery { get; private set; }

    public ProjectRegistry Registry => (Api ?? throw new InvalidOperationException("The API is not started.")).Services.GetRequiredService<ProjectRegistry>();

    public static async Task<DiscoveryHarness> StartKubernetesAsync(IDictionary<string, string?>? extra = null, bool startApi = true, bool startDiscovery = true)
    {
        var kube = await FakeKubeApiServer.StartAsync();
        kube.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        var settings = new Dictionary<string, string?>
        {
            ["Rdev:Runtime"] = ProjectRuntime.Kubernetes,
            ["Rdev:Kubernetes:Namespace"] = Namespace,
            ["Rdev:Kubernetes:ConfigMapName"] = ConfigMapName,
            ["Rdev:Kubernetes:RetryBaseDelay"] = "00:00:00.020",
            ["Rdev:Kubernetes:CircuitBreakDuration"] = "00:00:00.500",
        };
        return await StartAsync(kube, settings, extra, startApi, startDiscovery);
    }

    public static async Task<DiscoveryHarness> StartLocalAsync(
        string root, IDictionary<string, string?>? extra = null, bool startApi = true, bool startDiscovery = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rdev:Runtime"] = "local",
            ["Rdev:Local:ProjectsRoot"] = root,
        };
        return await StartAsync(null, settings, extra, startApi, startDiscovery);
    }

    private static async Task<DiscoveryHarness> StartAsync(
        FakeKubeApiServer? kube, Dictionary<string, string?> settings, IDictionary<string, string?>? extra, bool startApi, bool startDiscovery)
    {
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        // Without the API started, the database stays empty until a test starts it: discovery must meet the missing table.
        var host = new ApiHost(AdminKey, new Dictionary<string, string?> { ["Rdev:Runtime"] = settings["Rdev:Runtime"] })
        {
            Cluster = kube,
            Database = startApi ? new PostgresDatabase() : new EmptyPostgresDatabase(),
        };
        await host.InitializeAsync();
        var harness = new DiscoveryHarness(host, kube, settings);
        if (startApi)
        {
            harness.StartApi();
        }
        if (startDiscovery)
        {
            harness.StartDiscovery();
        }
        return harness;
    }

    /// <summary>Starts an API replica (the first one migrates the database).</summary>
    public ApiFactory StartApi()
    {
        var api = host.StartReplica();
        Api ??= api;
        return api;
    }

    /// <summary>A client of the first API replica holding <paramref name="key"/> (the admin key by default).</summary>
    public HttpClient Client(string? key = AdminKey)
    {
        var api = Api ?? throw new InvalidOperationException("The API is not started.");
        return ApiHost.WithKey(api.CreateClient(), key);
    }

    /// <summary>Creates a key with the admin key and returns its full secret string.</summary>
    public async Task<string> CreateKeyAsync(string[] scopes, string[]? projects = null)
    {
        var response = await Client().PostAsJsonAsync("/api/v1/keys", new { name = "discovery-test", scopes, projects });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString()!;
    }

    public DiscoveryFactory StartDiscovery()
    {
        Discovery = new DiscoveryFactory(Database.ConnectionString, settings, kubernetes);
        _ = Discovery.Server;
        return Discovery;
    }

    public async Task StopDiscoveryAsync()
    {
        if (Discovery is not null)
        {
            await Discovery.DisposeAsync();
            Discovery = null;
        }
    }

    public Project? Find(string name) => Registry.TryGet(name, out var project) ? project : null;

    /// <summary>Waits until the registry holds <paramref name="name"/> and it satisfies <paramref name="condition"/>.</summary>
    public async Task<Project> WaitForAsync(string name, Func<Project, bool> condition, string because, TimeSpan? timeout = null)
    {
        await Eventually.TrueAsync(() => Find(name) is { } p && condition(p), $"{name} {because}", timeout);
        return Find(name)!;
    }

    public Task<Project> WaitForStatusAsync(string name, string status) => WaitForAsync(name, p => p.Status == status, $"is {status}");

    /// <summary>The live (not gone) projects the registry holds, by name.</summary>
    public IReadOnlyList<string> LiveNames() => [.. Registry.All.Where(p => !p.IsGone).Select(p => p.Name)];

    public V1Pod CreatePod(string podName, string? project = null, IDictionary<string, string>? annotations = null, bool ready = false)
    {
        var labels = new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true" };
        if (project is not null)
        {
            labels["rdev.orchard9.ai/name"] = project;
        }

        var pod = Cluster.CreatePod(FakeKubeApiServer.NewPod(Namespace, podName, labels, annotations));
        return ready ? Cluster.SetPodReady(Namespace, podName, true) : pod;
    }

    public V1ConfigMap SetConfigMap(IDictionary<string, string> entries) => Cluster.UpsertConfigMap(new V1ConfigMap
    {
        Metadata = new V1ObjectMeta { Name = ConfigMapName, NamespaceProperty = Namespace },
        Data = entries,
    });

    /// <summary>
    /// Takes a harness shared by the tests of a class back to an empty cluster: deletes every pod and the settings
    /// ConfigMap, waits until the registry holds no live project (the gone ones stay, as they would), and forgets
    /// discovery's logs. Each test then starts from nothing and may use any project name.
    /// </summary>
    public async Task ResetAsync()
    {
        using (var client = Cluster.CreateClient())
        {
            foreach (var pod in (await client.CoreV1.ListNamespacedPodAsync(Namespace)).Items)
            {
                Cluster.DeletePod(Namespace, pod.Metadata.Name);
            }
        }

        if (Cluster.GetConfigMap(Namespace, ConfigMapName) is not null)
        {
            Cluster.DeleteConfigMap(Namespace, ConfigMapName);
        }

        await Eventually.TrueAsync(() => LiveNames().Count == 0, "the registry holds no live project");
        Discovery?.Logs.Clear();
    }

    public string ResourceVersion => Cluster.ResourceVersion.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await StopDiscoveryAsync();
        await host.DisposeAsync();
    }
}

/// <summary>
/// One kubernetes harness (fake API server, database, API, discovery) for all the tests of a class, taken back to an
/// empty cluster before each test (<see cref="DiscoveryHarness.ResetAsync"/>): starting one costs far more than a test.
/// </summary>
public sealed class SharedKubernetesDiscovery : IAsyncLifetime
{
    public DiscoveryHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await DiscoveryHarness.StartKubernetesAsync();

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}
