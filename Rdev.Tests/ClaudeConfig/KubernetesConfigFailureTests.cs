using System.Net;
using System.Text;
using System.Text.Json;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>The pod or Kubernetes failing under a configuration change: an error answer, never half a file.</summary>
public sealed class KubernetesConfigFailureTests(KubernetesConfigHost host) : IClassFixture<KubernetesConfigHost>
{
    private const string Original = "---\ndescription: original\n---\nkeep me intact\n";

    [Fact]
    public async Task AFailingExecIs503AndLeavesTheItemIntact()
    {
        var (project, workspace) = await host.AddProjectAsync();
        var (_, etag) = await CreateAsync(host.Api, project, "commands", "steady", Original);
        var pod = $"claudebox-{project}-0";

        host.Cluster!.FailNext(500, $"/api/v1/namespaces/{ConfigHost.Namespace}/pods/{pod}/exec");
        var put = await SendAsync(host.Api, HttpMethod.Put, Url(project, "commands", "steady"), new { content = "new" }, ifMatch: etag);
        host.Cluster.FailNext(503, $"/api/v1/namespaces/{ConfigHost.Namespace}/pods/{pod}/exec");
        var list = await host.Api.GetAsync(Url(project, "commands"));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "KUBERNETES_UNAVAILABLE"), (put.Status, put.Body.GetProperty("code").GetString()));
        await list.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "KUBERNETES_UNAVAILABLE");
        Assert.Equal(Utf8(Original), await File.ReadAllBytesAsync(ItemFile(workspace, "commands", "steady")));
        Assert.Empty(TemporaryFiles(workspace));
        Assert.Empty(await AuditAsync(project, "config.updated"));
    }

    [Fact]
    public async Task AMissingPodOrAProjectThatIsNotRunningIs409()
    {
        var (ghost, _) = await host.AddProjectAsync(pod: "ghost");
        var (starting, _) = await host.AddProjectAsync(runnable: false);

        var ghostList = await host.Api.GetAsync(Url(ghost, "agents"));
        var ghostCreate = await host.Api.PostAsync(Url(ghost, "agents"), Json(new { name = "a", content = "x" }));
        var startingList = await host.Api.GetAsync(Url(starting, "agents"));

        await ghostList.AssertProblemAsync(HttpStatusCode.Conflict, "PROJECT_UNAVAILABLE");
        await ghostCreate.AssertProblemAsync(HttpStatusCode.Conflict, "PROJECT_UNAVAILABLE");
        await startingList.AssertProblemAsync(HttpStatusCode.Conflict, "PROJECT_UNAVAILABLE");
        Assert.Empty(await AuditAsync(ghost, "config.created"));
    }

    [Fact]
    public async Task AWorkspaceThatIsNotThereIs409()
    {
        var (project, workspace) = await host.AddProjectAsync();
        // The exec itself runs in the container's own working directory, which stays.
        host.Cluster!.SetPodWorkspace(ConfigHost.Namespace, $"claudebox-{project}-0", Path.Combine(host.Root.FullName, "pod-home"));
        Directory.Delete(workspace);

        var response = await host.Api.GetAsync(Url(project, "skills"));

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "PROJECT_UNAVAILABLE");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ConnectionsDroppedMidWriteLeaveTheOldOrTheNewContentAndNoTemporaryFile()
    {
        var (project, workspace) = await host.AddProjectAsync();
        var file = ItemFile(workspace, "skills", "big");
        var cluster = host.Cluster!;
        var (_, etag) = await CreateAsync(host.Api, project, "skills", "big", Original);
        var outcomes = new List<HttpStatusCode>();

        try
        {
            for (var round = 0; round < 10; round++)
            {
                // Half the rounds as kind as a real cluster (stdin closed, the script cleans up), half killing it outright.
                cluster.KillExecProcessOnDisconnect = round % 2 == 0;
                var before = await File.ReadAllBytesAsync(file);
                var content = $"---\ndescription: round {round}\n---\n" + new string((char)('a' + round), 250_000);
                var execs = cluster.ExecCalls.Count;
                var put = SendAsync(host.Api, HttpMethod.Put, Url(project, "skills", "big"), new { content }, ifMatch: "*");

                // Drop the connection as soon as the write's exec exists, and keep dropping it until its process ends
                // or the API reacts with its clean-up exec, which must not be dropped too.
                var write = await WaitForAsync(() => cluster.ExecCalls.Skip(execs).FirstOrDefault(call => call.Stdin));
                var writeIndex = cluster.ExecCalls.ToList().IndexOf(write);
                while (!write.ExitCode.IsCompleted && !put.IsCompleted && cluster.ExecCalls.Count == writeIndex + 1)
                {
                    try
                    {
                        cluster.AbortAllExecs();
                    }
                    catch (ObjectDisposedException)
                    {
                        // A session that ended between listing and aborting it.
                    }

                    await Task.Yield();
                }

                var (status, body, newETag) = await put;
                await write.ExitCode.WaitAsync(TimeSpan.FromSeconds(10));
                outcomes.Add(status);
                var after = await File.ReadAllBytesAsync(file);
                if (status == HttpStatusCode.OK)
                {
                    Assert.Equal(Utf8(content), after);
                    etag = newETag!;
                }
                else
                {
                    Assert.Equal((HttpStatusCode.ServiceUnavailable, "KUBERNETES_UNAVAILABLE"), (status, body.GetProperty("code").GetString()));
                    Assert.True(after.AsSpan().SequenceEqual(before) || after.AsSpan().SequenceEqual(Utf8(content)), $"round {round}: a mix of old and new");
                }

                await Eventually.ValueAsync(() => Task.FromResult((TemporaryFiles(workspace).Length == 0,
                    string.Join(", ", TemporaryFiles(workspace).Select(Path.GetFileName)) + " left; execs since the write: " +
                    string.Join("; ", cluster.ExecCalls.Skip(writeIndex).Select(c =>
                        $"{(c.Stdin ? "write" : c.Command[2] == Rdev.Api.Kubernetes.WorkspaceScripts.Cleanup ? "cleanup" : "other")} exit " +
                        $"{(c.ExitCode.IsCompleted ? c.ExitCode.Result.ToString() : "running")}")))),
                    $"round {round} ({status}, kill {cluster.KillExecProcessOnDisconnect}) leaves no temporary file", TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            cluster.KillExecProcessOnDisconnect = true;
        }

        Assert.Contains(HttpStatusCode.ServiceUnavailable, outcomes);
        var (read, _) = await GetAsync(host.Api, project, "skills", "big");
        Assert.Equal(Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)), read.GetProperty("content").GetString());
    }

    [Fact]
    public async Task AnOpenCircuitAnswers503WithoutCallingKubernetes()
    {
        var api = host.StartApi(new Dictionary<string, string?>
        {
            ["Rdev:Kubernetes:CircuitFailureThreshold"] = "2",
            ["Rdev:Kubernetes:CircuitBreakDuration"] = "00:05:00",
        });
        var (project, workspace) = await host.AddProjectAsync();
        await Eventually.TrueAsync(async () => (await api.GetAsync($"/api/v1/projects/{project}")).IsSuccessStatusCode, "project visible");
        var pod = $"claudebox-{project}-0";
        host.Cluster!.FailNext(500, $"/api/v1/namespaces/{ConfigHost.Namespace}/pods/{pod}/exec", count: 2);
        await api.GetAsync(Url(project, "commands"));
        await api.GetAsync(Url(project, "commands"));
        var requests = host.Cluster.Requests.Count;

        var create = await api.PostAsync(Url(project, "commands"), Json(new { name = "later", content = "x" }));
        var read = await api.GetAsync(Url(project, "commands", "later"));

        await create.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "KUBERNETES_UNAVAILABLE");
        await read.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "KUBERNETES_UNAVAILABLE");
        Assert.Equal(requests, host.Cluster.Requests.Count);
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
        // The other replicas keep their own circuits.
        Assert.Equal(HttpStatusCode.Created, (await host.Api.PostAsync(Url(project, "commands"), Json(new { name = "later", content = "x" }))).StatusCode);
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    // Checked without a pause: the connection must drop while the write is still running.
    private static async Task<T> WaitForAsync<T>(Func<T?> find) where T : class =>
        (await Eventually.ValueAsync(() => Task.FromResult((find() is not null, find())), "the write's exec exists",
            interval: TimeSpan.Zero))!;

    private async Task<List<string>> AuditAsync(string project, string action) =>
        [.. (await host.Database.ScalarAsync<string[]>(
            $"SELECT coalesce(array_agg(details::text), '{{}}') FROM audit_log WHERE project = '{project}' AND action = '{action}'"))!];
}
