using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>The fake must satisfy KubernetesClient 21 (IKubernetes) exactly as production code uses it.</summary>
public sealed class KubernetesClientContractTests : IAsyncLifetime
{
    private const string Project = "rdev.orchard9.ai/project";
    private const string Selector = Project + "=true";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private FakeKubeApiServer server = null!;
    private k8s.Kubernetes client = null!;

    public async Task InitializeAsync()
    {
        server = await FakeKubeApiServer.StartAsync().WaitAsync(Timeout);
        client = server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ListWithLabelSelectorReturnsOnlyMatchingPodsAndTheListResourceVersion()
    {
        server.CreatePod(Pod("alpha", labeled: true));
        server.CreatePod(Pod("beta", labeled: false));
        server.CreatePod(FakeKubeApiServer.NewPod("other", "gamma", Labels(true)));

        var list = await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: Selector).WaitAsync(Timeout);
        var everywhere = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: $"{Project} in (true),!missing").WaitAsync(Timeout);

        Assert.Equal(["alpha"], list.Items.Select(p => p.Metadata.Name));
        Assert.Equal(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), list.Metadata.ResourceVersion);
        Assert.Equal(["alpha", "gamma"], everywhere.Items.Select(p => p.Metadata.Name).Order());
    }

    [Fact]
    public async Task WatchSeesAddedModifiedDeletedAndSelectorTransitions()
    {
        var start = await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: Selector).WaitAsync(Timeout);
        await using var watch = WatchPods(start.Metadata.ResourceVersion, bookmarks: false);
        await server.WaitForWatchesAsync(1, Timeout);

        server.CreatePod(Pod("alpha", labeled: true));
        server.SetPodReady("default", "alpha", true);
        server.CreatePod(Pod("beta", labeled: false));
        server.UpdatePod("default", "beta", p => p.Metadata.Labels = Labels(true));
        server.UpdatePod("default", "alpha", p => p.Metadata.Labels = Labels(false));
        server.DeletePod("default", "beta");

        var seen = new List<(WatchEventType, string, string?)>();
        for (var i = 0; i < 5; i++)
        {
            var (type, pod) = await watch.NextAsync(Timeout);
            seen.Add((type, pod.Metadata.Name, pod.Metadata.Labels?[Project]));
        }
        Assert.Equal(
        [
            (WatchEventType.Added, "alpha", "true"),
            (WatchEventType.Modified, "alpha", "true"),
            (WatchEventType.Added, "beta", "true"),
            (WatchEventType.Deleted, "alpha", "true"),
            (WatchEventType.Deleted, "beta", "true"),
        ], seen);
    }

    [Fact]
    public async Task WatchFromAnOldResourceVersionReplaysTheHistoryInOrder()
    {
        var before = server.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        server.CreatePod(Pod("alpha", labeled: true));
        server.SetPodReady("default", "alpha", true);
        server.DeletePod("default", "alpha");

        await using var watch = WatchPods(before, bookmarks: false);

        var events = new[] { await watch.NextAsync(Timeout), await watch.NextAsync(Timeout), await watch.NextAsync(Timeout) };
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), events[2].Object.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task BookmarksCarryOnlyTheCurrentResourceVersion()
    {
        server.BookmarkInterval = TimeSpan.FromMilliseconds(100);
        await using var watch = WatchPods(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), bookmarks: true);

        var (type, bookmark) = await watch.NextAsync(Timeout);
        server.UpsertConfigMap(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "bump", NamespaceProperty = "default" } });
        var later = await NextBookmarkWithVersionAsync(watch, server.ResourceVersion);

        Assert.Equal(WatchEventType.Bookmark, type);
        Assert.Null(bookmark.Metadata.Name);
        Assert.Null(bookmark.Spec);
        Assert.Equal((server.ResourceVersion - 1).ToString(CultureInfo.InvariantCulture), bookmark.Metadata.ResourceVersion);
        Assert.Equal("Pod", later.Kind);
    }

    [Fact]
    public async Task WatchFromACompactedResourceVersionGetsA410ExpiredErrorAndEnds()
    {
        var old = server.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        server.CreatePod(Pod("alpha", labeled: true));
        server.Compact();

        await using var watch = WatchPods(old, bookmarks: false);
        await watch.Completion.WaitAsync(Timeout);

        var error = Assert.IsType<KubernetesException>(Assert.Single(watch.Errors));
        Assert.Equal((410, "Expired"), (error.Status.Code, error.Status.Reason));
        Assert.StartsWith("too old resource version", error.Status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchThatClosesWithNoLinesThrowsHttpRequestExceptionInKubernetesClient21()
    {
        server.CloseNextWatches();

        await using var watch = WatchPods(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), bookmarks: false);

        // The client peeks the first line before it returns the response; an empty body is an EndOfStreamException inside.
        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => watch.Completion.WaitAsync(Timeout));
        Assert.IsType<EndOfStreamException>(thrown.InnerException);
    }

    [Fact]
    public async Task ExecReturnsStdoutStderrAndTheExitCode()
    {
        server.CreatePod(Pod("shell", labeled: true));
        string stdout = "", stderr = "";

        var exitCode = await client.NamespacedPodExecAsync("shell", "default", "main", ["sh", "-c", "echo out; echo err >&2; exit 3"], false,
            async (_, output, error) => (stdout, stderr) = (await ReadAllAsync(output), await ReadAllAsync(error)), CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal((3, "out\n", "err\n"), (exitCode, stdout, stderr));
        var call = Assert.Single(server.ExecCalls);
        Assert.Equal((FakeKubeApiServer.V4ChannelProtocol, "main", true, false), (call.Protocol, call.Container, call.Stdin, call.Tty));
        Assert.Equal(3, await call.ExitCode.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ExecRunsInThePodWorkspaceFolder()
    {
        var mapped = Directory.CreateTempSubdirectory("rdev-ws-").FullName;
        var annotated = Directory.CreateTempSubdirectory("rdev-ws-").FullName;
        server.CreatePod(Pod("mapped", labeled: true));
        server.SetPodWorkspace("default", "mapped", mapped);
        server.CreatePod(FakeKubeApiServer.NewPod("default", "annotated", Labels(true),
            new Dictionary<string, string> { [FakeKubeApiServer.WorkspaceAnnotation] = annotated }));

        var (_, inMapped, _) = await ExecAsync("mapped", "pwd");
        var (_, inAnnotated, _) = await ExecAsync("annotated", "pwd");

        Assert.Equal(mapped + "\n", inMapped);
        Assert.Equal(annotated + "\n", inAnnotated);
    }

    [Fact]
    public async Task ExecStdinWorksOverV4WhenTheReaderKnowsTheLength()
    {
        server.CreatePod(Pod("reader", labeled: true));

        // v4 has no way to signal stdin EOF, so the remote side must know how much to read.
        var exitCode = await client.NamespacedPodExecAsync("reader", "default", "main", ["sh", "-c", "head -c 5; echo ' done'"], false,
            async (input, output, _) =>
            {
                await input.WriteAsync("hello"u8.ToArray());
                await input.FlushAsync();
                Assert.Equal("hello done\n", await ReadAllAsync(output));
            }, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task ExecStreamsMegabytesOnBothOutputsWithoutDeadlock()
    {
        server.CreatePod(Pod("loud", labeled: true));

        var (exitCode, stdout, stderr) = await ExecAsync("loud", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' o & head -c 2000000 /dev/zero | tr '\\0' e >&2; wait");

        Assert.Equal((0, 3_000_000, 2_000_000), (exitCode, stdout.Length, stderr.Length));
    }

    [Fact]
    public async Task ExecAgainstAMissingPodFailsWithAPlainWebSocketException()
    {
        var thrown = await Assert.ThrowsAsync<WebSocketException>(() => ExecAsync("missing", "true"));

        Assert.Contains("404", thrown.Message, StringComparison.Ordinal);
        Assert.Empty(server.ExecCalls);
    }

    [Fact]
    public async Task CreatingAPodWithASlashInALabelValueIsRejectedAs422Invalid()
    {
        var pod = FakeKubeApiServer.NewPod("default", "bad", new Dictionary<string, string> { ["rdev.orchard9.ai/workspace"] = "/workspace" });

        var thrown = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodAsync(pod, "default").WaitAsync(Timeout));

        Assert.Equal((HttpStatusCode)422, thrown.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(thrown.Response.Content);
        Assert.Equal(("Failure", "Invalid", 422), (status.Status, status.Reason, status.Code));
        Assert.Equal("metadata.labels", Assert.Single(status.Details.Causes).Field);
        Assert.Null(server.GetPod("default", "bad"));
    }

    [Fact]
    public async Task ClientCanCreateReplacePatchStatusAndDeleteAndDuplicatesConflict()
    {
        var created = await client.CoreV1.CreateNamespacedPodAsync(Pod("alpha", labeled: true), "default").WaitAsync(Timeout);
        var duplicate = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodAsync(Pod("alpha", labeled: true), "default"));
        created.Metadata.Annotations = new Dictionary<string, string> { ["rdev.orchard9.ai/description"] = "demo" };
        var replaced = await client.CoreV1.ReplaceNamespacedPodAsync(created, "alpha", "default").WaitAsync(Timeout);
        var patched = await client.CoreV1.PatchNamespacedPodStatusAsync(
            new V1Patch("""{"status":{"phase":"Running"}}""", V1Patch.PatchType.MergePatch), "alpha", "default").WaitAsync(Timeout);
        var deleted = await client.CoreV1.DeleteNamespacedPodAsync("alpha", "default").WaitAsync(Timeout);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedPodAsync("alpha", "default"));

        Assert.Equal("Pending", created.Status.Phase);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Response.StatusCode);
        Assert.Contains("\"reason\":\"AlreadyExists\"", duplicate.Response.Content, StringComparison.Ordinal);
        Assert.Equal("demo", replaced.Metadata.Annotations["rdev.orchard9.ai/description"]);
        Assert.Equal(("Running", "demo"), (patched.Status.Phase, patched.Metadata.Annotations["rdev.orchard9.ai/description"]));
        Assert.True(long.Parse(deleted.Metadata.ResourceVersion, CultureInfo.InvariantCulture) > long.Parse(patched.Metadata.ResourceVersion, CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task ConfigMapWithAnInvalidDataKeyIsRejectedAs422()
    {
        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "rdev-projects" },
            Data = new Dictionary<string, string> { ["pantheon.yaml"] = "name: pantheon", ["bad/key"] = "x" },
        };

        var thrown = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedConfigMapAsync(configMap, "default"));

        Assert.Equal((HttpStatusCode)422, thrown.Response.StatusCode);
        Assert.Equal("data[bad/key]", Assert.Single(KubernetesJson.Deserialize<V1Status>(thrown.Response.Content).Details.Causes).Field);
    }

    private WatchRecorder<V1Pod> WatchPods(string resourceVersion, bool bookmarks) =>
        WatchRecorder<V1Pod>.Start((onError, ct) => client.CoreV1.WatchListNamespacedPodAsync(
            "default", allowWatchBookmarks: bookmarks, labelSelector: Selector, resourceVersion: resourceVersion,
            onError: onError, cancellationToken: ct));

    private static async Task<V1Pod> NextBookmarkWithVersionAsync(WatchRecorder<V1Pod> watch, long version)
    {
        while (true)
        {
            var (type, pod) = await watch.NextAsync(Timeout);
            if (type == WatchEventType.Bookmark && pod.Metadata.ResourceVersion == version.ToString(CultureInfo.InvariantCulture))
            {
                return pod;
            }
        }
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string pod, params string[] command)
    {
        string stdout = "", stderr = "";
        var exitCode = await client.NamespacedPodExecAsync(pod, "default", "main", command, false, async (_, output, error) =>
        {
            var outTask = ReadAllAsync(output);
            var errTask = ReadAllAsync(error);
            (stdout, stderr) = (await outTask, await errTask);
        }, CancellationToken.None).WaitAsync(Timeout);
        return (exitCode, stdout, stderr);
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private static V1Pod Pod(string name, bool labeled) => FakeKubeApiServer.NewPod("default", name, Labels(labeled));

    private static Dictionary<string, string> Labels(bool project) => new() { [Project] = project ? "true" : "false" };
}
