using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// The one fixture for tests of the API on real Postgres: a fresh database, the settings every test replica starts
/// from (a bootstrap admin key, rate limits out of the way), any number of replicas on that database (in-memory
/// TestServer or Kestrel on 127.0.0.1), clients holding a key, projects published the way discovery publishes them,
/// and optionally a fake Kubernetes API server. Feature hosts (CommandsHost, ConfigHost, KeysHost, DiscoveryHarness)
/// only add their own settings and helpers.
/// </summary>
public class ApiHost(string adminKey, IDictionary<string, string?>? settings = null) : IAsyncLifetime
{
    private readonly List<ApiFactory> replicas = [];

    /// <summary>Already migrated (a copy of the template) unless a test needs an <see cref="EmptyPostgresDatabase"/>.</summary>
    public PostgresDatabase Database { get; init; } = new();

    public string ConnectionString => Database.ConnectionString;

    /// <summary>The settings of every replica started from now on; a test may change them first.</summary>
    public Dictionary<string, string?> Settings { get; } = BaseSettings(adminKey, settings);

    /// <summary>The replicas started so far, oldest first.</summary>
    public IReadOnlyList<ApiFactory> Replicas => replicas;

    /// <summary>A fake Kubernetes API server that stops with this host.</summary>
    public FakeKubeApiServer? Cluster { get; set; }

    /// <summary>A bootstrap admin key, and rate limits high enough that only a test that sets its own meets them.</summary>
    public static Dictionary<string, string?> BaseSettings(string adminKey, IDictionary<string, string?>? extra = null) =>
        Merge(new Dictionary<string, string?>
        {
            ["Rdev:BootstrapAdminKey"] = adminKey,
            ["Rdev:RateLimit:PermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:Burst"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedBurst"] = "1000000",
        }, extra);

    /// <summary>A copy of <paramref name="settings"/> with <paramref name="extra"/> laid over it.</summary>
    public static Dictionary<string, string?> Merge(IDictionary<string, string?> settings, IDictionary<string, string?>? extra)
    {
        var merged = new Dictionary<string, string?>(settings);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>Services that point the API's Kubernetes client at <paramref name="server"/>.</summary>
    public static Action<IServiceCollection> KubernetesClientFor(FakeKubeApiServer server) =>
        services => services.AddSingleton(new k8s.KubernetesClientConfiguration { Host = server.Url });

    public static HttpClient WithKey(HttpClient client, string? key)
    {
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
    }

    public virtual Task InitializeAsync() => Database.InitializeAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var replica in replicas)
        {
            try
            {
                await replica.DisposeAsync();
            }
            catch (ObjectDisposedException)
            {
                // A test may have stopped the replica itself, or its key-usage flush can race the disposal of its data
                // source while the test host stops: shutdown noise, not something a test checks.
            }
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Database.DisposeAsync();
    }

    /// <summary>Starts the fake Kubernetes API server once; it stops with the host.</summary>
    public async Task<FakeKubeApiServer> StartClusterAsync() => Cluster ??= await FakeKubeApiServer.StartAsync();

    /// <summary>
    /// A new replica on this host's database, started (the first one migrates it). <paramref name="kestrel"/> serves it
    /// on a real loopback port instead of the in-memory test server.
    /// </summary>
    public ApiFactory StartReplica(
        IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null, bool kestrel = false)
    {
        var replica = new ApiFactory(Database.ConnectionString, Merge(Settings, extra), services);
        replicas.Add(replica);
        replica.Start(kestrel);
        return replica;
    }

    /// <summary>A new replica (see <see cref="StartReplica"/>) and a client of it holding the admin key.</summary>
    public HttpClient StartApi(
        IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null, bool kestrel = false) =>
        WithKey(StartReplica(extra, services, kestrel).CreateClient(), adminKey);

    /// <summary>Writes the project's row and NOTIFYs, exactly as discovery publishes a project.</summary>
    public async Task PublishProjectAsync(ProjectRow project)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO projects (name, status, runtime, namespace, pod_name, container, workspace, allowed_commands,
                                  max_concurrent_commands, runnable)
            VALUES (@name, @status, @runtime, @ns, @pod, @container, @workspace, @allowed, @max, @runnable);
            SELECT pg_notify(@channel, @name);
            """, connection);
        command.Parameters.AddWithValue("channel", NotifyChannels.Projects);
        command.Parameters.AddWithValue("name", project.Name);
        command.Parameters.AddWithValue("status", project.Status);
        command.Parameters.AddWithValue("runtime", project.Runtime);
        command.Parameters.AddWithValue("ns", (object?)project.Namespace ?? DBNull.Value);
        command.Parameters.AddWithValue("pod", (object?)project.Pod ?? DBNull.Value);
        command.Parameters.AddWithValue("container", (object?)project.Container ?? DBNull.Value);
        command.Parameters.AddWithValue("workspace", project.Workspace);
        command.Parameters.AddWithValue("allowed", project.Allowed);
        command.Parameters.AddWithValue("max", project.MaxConcurrent);
        command.Parameters.AddWithValue("runnable", project.Runnable);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Waits until <paramref name="client"/>'s replica serves the project (its registry has caught up).</summary>
    public static Task WaitForProjectAsync(HttpClient client, string name) =>
        Eventually.TrueAsync(async () => (await client.GetAsync($"/api/v1/projects/{name}")).IsSuccessStatusCode,
            $"project {name} is visible through the API");
}

/// <summary>A project's row in <c>projects</c>, with the values discovery writes for a running local project.</summary>
public sealed record ProjectRow(string Name, string Workspace)
{
    public string Status { get; init; } = "running";
    public string Runtime { get; init; } = "local";
    public string? Namespace { get; init; }
    public string? Pod { get; init; }
    public string? Container { get; init; }
    public string[] Allowed { get; init; } = ["claude", "git", "shell"];
    public int MaxConcurrent { get; init; } = 5;
    public bool Runnable { get; init; } = true;
}
