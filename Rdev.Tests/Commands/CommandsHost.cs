using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rdev.Tests.Kubernetes;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// The API on the local runtime against a real database, with projects in a temporary folder registered the way
/// discovery registers them (a row in <c>projects</c> and a NOTIFY), and an admin key.
/// </summary>
public sealed class CommandsHost : IAsyncLifetime
{
    public const string AdminKey = "rdev_testadmin_Q3xk8PzR2mV7nL4wT9bY6cF1hJ5sD0aG";

    private readonly PostgresDatabase database = new();
    private readonly List<ApiFactory> factories = [];
    private FakeKubeApiServer? kubernetes;

    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("rdev-projects-");

    public string ConnectionString => database.ConnectionString;

    public PostgresDatabase Database => database;

    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["Rdev:Runtime"] = "local",
        ["Rdev:BootstrapAdminKey"] = AdminKey,
        ["Rdev:Commands:CancelGraceSeconds"] = "2",
        ["Rdev:Streaming:HeartbeatSeconds"] = "1",
        // These tests are about commands, not about rate limits.
        ["Rdev:RateLimit:PermitsPerMinute"] = "1000000",
        ["Rdev:RateLimit:Burst"] = "1000000",
    };

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var factory in factories)
        {
            await factory.DisposeAsync();
        }

        await database.DisposeAsync();
        if (kubernetes is not null)
        {
            await kubernetes.DisposeAsync();
        }

        Root.Delete(recursive: true);
    }

    /// <summary>A new API replica on the shared database, and a client holding the admin key.</summary>
    public HttpClient StartApi(IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null) =>
        StartReplica(extra, services).Client;

    /// <summary>Like <see cref="StartApi"/>, also returning the replica so a test can stop it.</summary>
    /// <paramref name="realHttp"/> serves it with Kestrel on a loopback port instead of the in-memory test server.
    public (ApiFactory Factory, HttpClient Client) StartReplica(
        IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null, bool realHttp = false)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var factory = new ApiFactory(database.ConnectionString, settings, services);
        factories.Add(factory);
        if (realHttp)
        {
            factory.UseKestrel(0);
        }

        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return (factory, client);
    }

    /// <summary>A fake Kubernetes API server for this host's kubernetes projects, stopped with the host.</summary>
    public async Task<FakeKubeApiServer> StartFakeKubernetesAsync() => kubernetes ??= await FakeKubeApiServer.StartAsync();

    /// <summary>
    /// A kubernetes project: a pod in the fake API server whose exec runs in a local folder, published as discovery
    /// would publish it. Returns the folder.
    /// </summary>
    public async Task<string> AddPodProjectAsync(string name, FakeKubeApiServer server, int maxConcurrent = 5)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root.FullName, name)).FullName;
        var pod = $"claudebox-{name}-0";
        server.CreatePod(FakeKubeApiServer.NewPod("default", pod,
            new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true", ["rdev.orchard9.ai/name"] = name }));
        server.SetPodReady("default", pod, true);
        server.SetPodWorkspace("default", pod, folder);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO projects (name, status, runtime, namespace, pod_name, container, workspace, allowed_commands,
                                  max_concurrent_commands, runnable)
            VALUES (@name, 'running', 'kubernetes', 'default', @pod, 'main', @workspace, '{claude,git,shell}', @max, true);
            SELECT pg_notify('rdev_projects', @name);
            """, connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("pod", pod);
        command.Parameters.AddWithValue("workspace", folder);
        command.Parameters.AddWithValue("max", maxConcurrent);
        await command.ExecuteNonQueryAsync();
        return folder;
    }

    /// <summary>Settings and services that put an API replica on the kubernetes runtime against the fake server.</summary>
    public static (Dictionary<string, string?> Settings, Action<IServiceCollection> Services) KubernetesRuntime(FakeKubeApiServer server) =>
        (new Dictionary<string, string?> { ["Rdev:Runtime"] = "kubernetes" },
         services => services.AddSingleton(new k8s.KubernetesClientConfiguration { Host = server.Url }));

    /// <summary>Creates the project folder and publishes it as discovery would.</summary>
    public async Task<string> AddProjectAsync(string name, string[]? allowed = null, int maxConcurrent = 5)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root.FullName, name)).FullName;
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO projects (name, status, runtime, workspace, allowed_commands, max_concurrent_commands, runnable)
            VALUES (@name, 'running', 'local', @workspace, @allowed, @max, true);
            SELECT pg_notify('rdev_projects', @name);
            """, connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("workspace", folder);
        command.Parameters.AddWithValue("allowed", allowed ?? ["claude", "git", "shell"]);
        command.Parameters.AddWithValue("max", maxConcurrent);
        await command.ExecuteNonQueryAsync();
        return folder;
    }

    public static async Task WaitForProjectAsync(HttpClient client, string name)
    {
        await Poll.UntilAsync(async () => (await client.GetAsync($"/api/v1/projects/{name}")).IsSuccessStatusCode,
            $"project {name} visible through the API");
    }

    public static async Task<JsonElement> StartAsync(HttpClient client, string project, string kind, object body)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/projects/{project}/{kind}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public static async Task<JsonElement> GetCommandAsync(HttpClient client, string id) =>
        JsonDocument.Parse(await client.GetStringAsync($"/api/v1/commands/{id}")).RootElement;

    public static async Task<JsonElement> WaitForFinalAsync(HttpClient client, string id, TimeSpan? timeout = null)
    {
        JsonElement command = default;
        await Poll.UntilAsync(async () =>
        {
            command = await GetCommandAsync(client, id);
            return command.GetProperty("status").GetString() is not ("queued" or "running");
        }, $"command {id} finished", timeout);
        return command;
    }

    /// <summary>The output text carried by <paramref name="events"/>, stdout and stderr in order.</summary>
    public static string OutputOf(IEnumerable<SseItem<string>> events) =>
        string.Concat(events.Where(e => e.EventType == "output")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString()));

    /// <summary>The output of <paramref name="events"/> as lines.</summary>
    public static string[] OutputLines(IEnumerable<SseItem<string>> events) =>
        OutputOf(events).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Reads the SSE stream until it ends (or <paramref name="stopAfter"/> events), as a client would.</summary>
    public static async Task<List<SseItem<string>>> ReadStreamAsync(
        HttpClient client, string id, long? lastEventId = null, int stopAfter = int.MaxValue, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/commands/{id}/stream");
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        var items = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(body).EnumerateAsync(timeout.Token))
        {
            items.Add(item);
            if (items.Count >= stopAfter)
            {
                break;
            }
        }

        return items;
    }
}

public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }
}
