using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using k8s;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rdev.Api;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>
/// Two API replicas on one real database, on the local runtime or on the kubernetes runtime against the fake API
/// server (whose pods run execs as local processes in a folder the test owns), and projects registered the way
/// discovery registers them (a row in <c>projects</c> and a NOTIFY). Shared by the tests of one class; each test
/// adds its own project.
/// </summary>
public abstract class ConfigHost : IAsyncLifetime
{
    public const string AdminKey = "rdev_cfgtestadmin_T7kq2Lm9Xv4Rb8Nc1Hz6Wd3Jp5Gs0Fa";
    public const string Namespace = "default";

    private readonly List<WebApplicationFactory<ApiMarker>> factories = [];
    private int projects;

    public PostgresDatabase Database { get; } = new();

    /// <summary>Holds every project's workspace, and <see cref="Outside"/>, a sibling nothing may ever touch.</summary>
    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("rdev-config-");

    public string Outside => Path.Combine(Root.FullName, "outside");

    public HttpClient Api { get; private set; } = null!;

    public HttpClient Replica { get; private set; } = null!;

    public FakeKubeApiServer? Cluster { get; protected set; }

    public abstract string Runtime { get; }

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "keep.txt"), "untouched");
        await Database.InitializeAsync();
        Api = StartApi();
        Replica = StartApi();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var factory in factories)
        {
            await factory.DisposeAsync();
        }

        await Database.DisposeAsync();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        Root.Delete(recursive: true);
    }

    /// <summary>A new replica on the shared database (TestServer, or Kestrel on 127.0.0.1), and a client with the admin key.</summary>
    public HttpClient StartApi(IDictionary<string, string?>? extra = null, bool kestrel = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rdev:Runtime"] = Runtime,
            ["Rdev:BootstrapAdminKey"] = AdminKey,
            ["Rdev:RateLimit:PermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:Burst"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedBurst"] = "1000000",
            ["Rdev:Kubernetes:ConnectTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var cluster = Cluster;
        var factory = new ApiFactory(Database.ConnectionString, settings, cluster is null
            ? null
            : services => services.AddSingleton(new KubernetesClientConfiguration { Host = cluster.Url }));
        if (kestrel)
        {
            factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
        }

        factories.Add(factory);
        return WithKey(factory.CreateClient(), AdminKey);
    }

    /// <summary>
    /// Sends a request whose path reaches the API exactly as given (percent-escapes decoded, '%2F' kept, no dot-segment
    /// removal), as a client or proxy that does not normalize would deliver it; an HttpClient would resolve '..' first.
    /// </summary>
    public async Task<(HttpStatusCode Status, string? ContentType)> SendExactAsync(string method, string path, string? json)
    {
        var context = await factories[0].Server.SendAsync(c =>
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

    public static HttpClient WithKey(HttpClient client, string key)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
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

        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO projects (name, status, runtime, namespace, pod_name, container, workspace, allowed_commands,
                                  max_concurrent_commands, runnable)
            VALUES (@name, @status, @runtime, @ns, @pod, @container, @workspace, '{claude,git}', 5, @runnable);
            SELECT pg_notify('rdev_projects', @name);
            """, connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("status", runnable ? "running" : "starting");
        command.Parameters.AddWithValue("runtime", Runtime);
        command.Parameters.AddWithValue("ns", Cluster is null ? DBNull.Value : Namespace);
        command.Parameters.AddWithValue("pod", Cluster is null ? DBNull.Value : pod);
        command.Parameters.AddWithValue("container", Cluster is null ? DBNull.Value : "main");
        command.Parameters.AddWithValue("workspace", workspace);
        command.Parameters.AddWithValue("runnable", runnable);
        await command.ExecuteNonQueryAsync();

        foreach (var client in new[] { Api, Replica })
        {
            await Until(async () => (await client.GetAsync($"/api/v1/projects/{name}")).IsSuccessStatusCode, $"project {name} visible");
        }

        return (name, workspace);
    }

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Creates a key with <paramref name="scopes"/> (and optionally only <paramref name="projectNames"/>) and a client holding it.</summary>
    public async Task<HttpClient> ClientWithScopesAsync(string[] scopes, string[]? projectNames = null)
    {
        var response = await Api.PostAsJsonAsync("/api/v1/keys", new { name = "config-test", scopes, projects = projectNames });
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        var factory = factories[0];
        return WithKey(factory.CreateClient(), body.GetProperty("key").GetString()!);
    }
}

public sealed class LocalConfigHost : ConfigHost
{
    public override string Runtime => "local";
}

public sealed class KubernetesConfigHost : ConfigHost
{
    public override string Runtime => "kubernetes";

    public override async Task InitializeAsync()
    {
        Cluster = await FakeKubeApiServer.StartAsync();
        await base.InitializeAsync();
    }
}
