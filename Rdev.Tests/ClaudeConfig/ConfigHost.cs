using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>
/// Two API replicas on one real database (an <see cref="ApiHost"/>), on the local runtime or on the kubernetes runtime
/// against the fake API server (whose pods run execs as local processes in a folder the test owns), and projects
/// registered the way discovery registers them. Shared by the tests of one class; each test adds its own project.
/// </summary>
public abstract class ConfigHost() : ApiHost(AdminKey, new Dictionary<string, string?>
{
    ["Rdev:Kubernetes:ConnectTimeout"] = "00:00:05",
})
{
    public const string AdminKey = "rdev_cfgtestadmin_T7kq2Lm9Xv4Rb8Nc1Hz6Wd3Jp5Gs0Fa";
    public const string Namespace = "default";

    private int projects;

    /// <summary>Holds every project's workspace, and <see cref="Outside"/>, a sibling nothing may ever touch.</summary>
    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("rdev-config-");

    public string Outside => Path.Combine(Root.FullName, "outside");

    public HttpClient Api { get; private set; } = null!;

    public HttpClient Replica { get; private set; } = null!;

    public abstract string Runtime { get; }

    public override async Task InitializeAsync()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "keep.txt"), "untouched");
        Settings["Rdev:Runtime"] = Runtime;
        await base.InitializeAsync();
        Api = StartApi();
        Replica = StartApi();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Root.Delete(recursive: true);
    }

    /// <summary>A new replica on the shared database (TestServer, or Kestrel on 127.0.0.1), and a client with the admin key.</summary>
    public HttpClient StartApi(IDictionary<string, string?>? extra = null, bool kestrel = false) =>
        StartApi(extra, Cluster is { } cluster ? KubernetesClientFor(cluster) : null, kestrel);

    /// <summary>
    /// Sends a request whose path reaches the API exactly as given (percent-escapes decoded, '%2F' kept, no dot-segment
    /// removal), as a client or proxy that does not normalize would deliver it; an HttpClient would resolve '..' first.
    /// </summary>
    public async Task<(HttpStatusCode Status, string? ContentType)> SendExactAsync(string method, string path, string? json)
    {
        var context = await Replicas[0].Server.SendAsync(c =>
        {
            c.Request.Method = method;
            // Decoded as Kestrel decodes a path: every escape but %2F, which stays inside its segment.
            c.Request.Path = new PathString(Uri.UnescapeDataString(path.Replace("%2F", "%252F", StringComparison.OrdinalIgnoreCase)));
            c.Request.Headers.Authorization = "Bearer " + AdminKey;
            c.Request.Headers.IfMatch = "*";
            if (json is not null)
            {
                c.Request.ContentType = "application/json";
                c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
            }
        });
        return ((HttpStatusCode)context.Response.StatusCode, context.Response.ContentType?.Split(';')[0]);
    }

    /// <summary>Registers a new project whose workspace is a fresh folder under <see cref="Root"/>; returns both.</summary>
    public async Task<(string Name, string Workspace)> AddProjectAsync(string? pod = null, bool runnable = true)
    {
        var name = $"p{Interlocked.Increment(ref projects)}";
        var workspace = Directory.CreateDirectory(Path.Combine(Root.FullName, name)).FullName;
        pod ??= $"claudebox-{name}-0";
        if (Cluster is not null && Cluster.GetPod(Namespace, pod) is null && pod != "ghost")
        {
            Cluster.CreatePod(FakeKubeApiServer.NewPod(Namespace, pod));
            Cluster.SetPodWorkspace(Namespace, pod, workspace);
        }

        await PublishProjectAsync(new ProjectRow(name, workspace)
        {
            Status = runnable ? "running" : "starting",
            Runtime = Runtime,
            Namespace = Cluster is null ? null : Namespace,
            Pod = Cluster is null ? null : pod,
            Container = Cluster is null ? null : "main",
            Allowed = ["claude", "git"],
            Runnable = runnable,
        });

        foreach (var client in new[] { Api, Replica })
        {
            await WaitForProjectAsync(client, name);
        }

        return (name, workspace);
    }

    /// <summary>Creates a key with <paramref name="scopes"/> (and optionally only <paramref name="projectNames"/>) and a client holding it.</summary>
    public async Task<HttpClient> ClientWithScopesAsync(string[] scopes, string[]? projectNames = null)
    {
        var response = await Api.PostAsJsonAsync("/api/v1/keys", new { name = "config-test", scopes, projects = projectNames });
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        return WithKey(Replicas[0].CreateClient(), body.GetProperty("key").GetString()!);
    }
}

public sealed class LocalConfigHost : ConfigHost
{
    public override string Runtime => ProjectRuntime.Local;
}

public sealed class KubernetesConfigHost : ConfigHost
{
    public override string Runtime => ProjectRuntime.Kubernetes;

    public override async Task InitializeAsync()
    {
        await StartClusterAsync();
        await base.InitializeAsync();
    }
}
