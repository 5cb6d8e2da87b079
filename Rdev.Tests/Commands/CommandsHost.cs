using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Tests.Kubernetes;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// The API on the local runtime against a real database (an <see cref="ApiHost"/>), with projects in a temporary
/// folder registered the way discovery registers them, and an admin key.
/// </summary>
public sealed class CommandsHost() : ApiHost(AdminKey, new Dictionary<string, string?>
{
    ["Rdev:Runtime"] = "local",
    ["Rdev:Commands:CancelGraceSeconds"] = "2",
    ["Rdev:Streaming:HeartbeatSeconds"] = "1",
})
{
    public const string AdminKey = "rdev_testadmin_Q3xk8PzR2mV7nL4wT9bY6cF1hJ5sD0aG";

    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("rdev-projects-");

    /// <summary>The replicas' run folders (outside every workspace), so a test can see them come and go.</summary>
    public DirectoryInfo Runs { get; } = RunsFolder();

    public override async Task InitializeAsync()
    {
        Settings["Rdev:Local:RunsRoot"] = Runs.FullName;
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Root.Delete(recursive: true);
        Runs.Delete(recursive: true);
    }

    /// <summary>The run folders now present (local ones and those of the fake pods): none once every command's output is stored.</summary>
    public string[] RunFolders() => Runs.Exists
        ? [.. Directory.GetDirectories(Runs.FullName).Where(d => !Path.GetFileName(d).StartsWith("claudebox-", StringComparison.Ordinal)),
           .. Directory.GetDirectories(Runs.FullName, "claudebox-*").SelectMany(pod =>
               Directory.Exists(Path.Combine(pod, "rdev")) ? Directory.GetDirectories(Path.Combine(pod, "rdev")) : [])]
        : [];

    // Others may pass through (a root API hands each run folder to the command's user) but not list it.
    private static DirectoryInfo RunsFolder()
    {
        var runs = Directory.CreateTempSubdirectory("rdev-runs-");
        runs.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return runs;
    }

    /// <summary>Like <see cref="ApiHost.StartApi"/>, also returning the replica so a test can stop it.</summary>
    public new (ApiFactory Factory, HttpClient Client) StartReplica(
        IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null, bool realHttp = false)
    {
        var factory = base.StartReplica(extra, services, realHttp);
        return (factory, WithKey(factory.CreateClient(), AdminKey));
    }

    /// <summary>A fake Kubernetes API server for this host's kubernetes projects, stopped with the host.</summary>
    public Task<FakeKubeApiServer> StartFakeKubernetesAsync() => StartClusterAsync();

    /// <summary>
    /// A kubernetes project: a pod in the fake API server whose exec runs in a local folder, published as discovery
    /// would publish it. Returns the folder.
    /// </summary>
    public async Task<string> AddPodProjectAsync(string name, FakeKubeApiServer server, int maxConcurrent = 5)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root.FullName, name)).FullName;
        var pod = $"claudebox-{name}-0";
        var spec = FakeKubeApiServer.NewPod("default", pod,
            new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true", ["rdev.orchard9.ai/name"] = name });
        // The pod's own temp folder, where its run folders live (${TMPDIR}/rdev/<id>).
        spec.Spec.Containers[0].Env = [new k8s.Models.V1EnvVar { Name = "TMPDIR", Value = Directory.CreateDirectory(Path.Combine(Runs.FullName, pod)).FullName }];
        server.CreatePod(spec);
        server.SetPodReady("default", pod, true);
        server.SetPodWorkspace("default", pod, folder);
        await PublishProjectAsync(new ProjectRow(name, folder)
        {
            Runtime = ProjectRuntime.Kubernetes, Namespace = "default", Pod = pod, Container = "main", MaxConcurrent = maxConcurrent,
        });
        return folder;
    }

    /// <summary>Settings and services that put an API replica on the kubernetes runtime against the fake server.</summary>
    public static (Dictionary<string, string?> Settings, Action<IServiceCollection> Services) KubernetesRuntime(FakeKubeApiServer server) =>
        (new Dictionary<string, string?> { ["Rdev:Runtime"] = ProjectRuntime.Kubernetes }, KubernetesClientFor(server));

    /// <summary>Creates the project folder and publishes it as discovery would.</summary>
    public async Task<string> AddProjectAsync(string name, string[]? allowed = null, int maxConcurrent = 5)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Root.FullName, name)).FullName;
        await PublishProjectAsync(new ProjectRow(name, folder)
        {
            Allowed = allowed ?? ["claude", "git", "shell"], MaxConcurrent = maxConcurrent,
        });
        return folder;
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

    public static Task<JsonElement> WaitForFinalAsync(HttpClient client, string id, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(async () =>
        {
            var command = await GetCommandAsync(client, id);
            return (command.GetProperty("status").GetString() is not ("queued" or "running" or "waiting_approval" or "waiting_input"), command);
        }, $"command {id} finished", timeout);

    /// <summary>The output text carried by <paramref name="events"/>, stdout and stderr in order.</summary>
    public static string OutputOf(IEnumerable<SseItem<string>> events) =>
        string.Concat(events.Where(e => e.EventType == "output")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString()));

    /// <summary>The output of <paramref name="events"/> as lines.</summary>
    public static string[] OutputLines(IEnumerable<SseItem<string>> events) =>
        OutputOf(events).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Reads the SSE stream until it ends (or <paramref name="stopAfter"/> events), as a client would.</summary>
    public static Task<List<SseItem<string>>> ReadStreamAsync(
        HttpClient client, string id, long? lastEventId = null, int stopAfter = int.MaxValue, CancellationToken ct = default) =>
        ReadEventsAsync(client, $"/api/v1/commands/{id}/stream", (_, count) => count >= stopAfter, lastEventId, ct);

    /// <summary>
    /// Reads the SSE stream at <paramref name="path"/> (after <paramref name="lastEventId"/>) until it ends or
    /// <paramref name="until"/> holds for an event and the count read so far.
    /// </summary>
    public static async Task<List<SseItem<string>>> ReadEventsAsync(
        HttpClient client, string path, Func<SseItem<string>, int, bool> until, long? lastEventId = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
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
            if (until(item, items.Count))
            {
                break;
            }
        }

        return items;
    }
}
