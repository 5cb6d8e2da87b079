using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Kubernetes;

/// <summary>Fault switches and wire details of the fake, as clients observe them.</summary>
public sealed class FakeKubeFaultTests : IAsyncLifetime
{
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
    public async Task InjectedServerErrorSurfacesAsHttpOperationExceptionWith500ThenClears()
    {
        server.FailNext(500, "/api/v1/namespaces/default/pods");

        var thrown = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListNamespacedPodAsync("default"));
        var next = await client.CoreV1.ListNamespacedPodAsync("default").WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.InternalServerError, thrown.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(thrown.Response.Content);
        Assert.Equal(("Failure", "InternalError", 500), (status.Status, status.Reason, status.Code));
        Assert.Empty(next.Items);
    }

    [Fact]
    public async Task MissingPodAnswersARealNotFoundStatus()
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync($"{server.Url}/api/v1/namespaces/default/pods/ghost").WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(("Status", "v1", "Failure", "NotFound", 404), (
            root.GetProperty("kind").GetString(), root.GetProperty("apiVersion").GetString(), root.GetProperty("status").GetString(),
            root.GetProperty("reason").GetString(), root.GetProperty("code").GetInt32()));
        Assert.Equal("pods \"ghost\" not found", root.GetProperty("message").GetString());
    }

    [Fact]
    public async Task InjectedWatchFaultLeavesListsAlone()
    {
        server.FailNext(404, "/api/v1/namespaces/default/pods", watch: true);

        var list = await client.CoreV1.ListNamespacedPodAsync("default").WaitAsync(Timeout);
        await using var watch = WatchPods(list.Metadata.ResourceVersion);

        var thrown = await Assert.ThrowsAsync<HttpOperationException>(() => watch.Completion.WaitAsync(Timeout));
        Assert.Equal(HttpStatusCode.NotFound, thrown.Response.StatusCode);
    }

    [Fact]
    public async Task AbortedWatchFailsTheClientStreamWithAnIOException()
    {
        await using var watch = WatchPods("0");
        server.CreatePod(FakeKubeApiServer.NewPod("default", "alpha"));
        await watch.NextAsync(Timeout);

        server.AbortAllWatches();

        await Assert.ThrowsAnyAsync<IOException>(() => watch.Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task EndedOrTimedOutWatchCompletesTheClientStreamCleanly()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "alpha"));
        await using var ended = WatchPods("0");
        await using var timedOut = WatchRecorder<V1Pod>.Start((onError, ct) => client.CoreV1.WatchListNamespacedPodAsync(
            "default", resourceVersion: "0", timeoutSeconds: 1, onError: onError, cancellationToken: ct));
        await ended.NextAsync(Timeout);
        await timedOut.NextAsync(Timeout);

        server.EndAllWatches();
        await ended.Completion.WaitAsync(Timeout);
        await timedOut.Completion.WaitAsync(Timeout);

        Assert.Empty(ended.Errors);
    }

    [Fact]
    public async Task WatchIsNewlineDelimitedJsonSentAsEachEventHappens()
    {
        using var http = new HttpClient();
        var url = $"{server.Url}/api/v1/namespaces/default/pods?watch=1&resourceVersion={server.ResourceVersion}";

        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        server.CreatePod(FakeKubeApiServer.NewPod("default", "alpha"));
        var line = await reader.ReadLineAsync().WaitAsync(Timeout);

        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(line!);
        Assert.Equal("ADDED", json.RootElement.GetProperty("type").GetString());
        var pod = json.RootElement.GetProperty("object");
        Assert.Equal(("Pod", "alpha"), (pod.GetProperty("kind").GetString(), pod.GetProperty("metadata").GetProperty("name").GetString()));
        Assert.Equal(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), pod.GetProperty("metadata").GetProperty("resourceVersion").GetString());
    }

    [Fact]
    public async Task AbortedExecKillsTheProcessAndTheClientGetsNoStatusToParse()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "sleeper"));
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exec = client.NamespacedPodExecAsync("sleeper", "default", "main", ["sleep", "30"], false,
            async (_, output, _) =>
            {
                connected.TrySetResult();
                await output.CopyToAsync(Stream.Null);
            }, CancellationToken.None);
        await Eventually.TrueAsync(() => server.ExecCalls.Count == 1, "the exec reached the server", Timeout);
        await server.ExecCalls[0].Started.WaitAsync(Timeout);
        // The client must have finished the WebSocket handshake: dropped earlier, the exec fails to connect instead.
        await connected.Task.WaitAsync(Timeout);

        server.AbortAllExecs();

        // KubernetesClient reads an empty error channel and fails to parse it: a dropped exec is a JsonException.
        await Assert.ThrowsAsync<JsonException>(() => exec.WaitAsync(Timeout));
        Assert.Equal(137, await server.ExecCalls[0].ExitCode.WaitAsync(Timeout));
    }

    [Fact]
    public async Task InjectedExecFaultFailsBeforeTheUpgrade()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "shell"));
        server.FailNext(500, "/api/v1/namespaces/default/pods/shell/exec");

        await Assert.ThrowsAsync<WebSocketException>(() => client.NamespacedPodExecAsync("shell", "default", "main", ["true"], false,
            (_, _, _) => Task.CompletedTask, CancellationToken.None).WaitAsync(Timeout));
        Assert.Empty(server.ExecCalls);
    }

    [Fact]
    public async Task DisposingTheServerKillsRunningExecProcesses()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "sleeper"));
        server.KillExecProcessOnDisconnect = false;
        var exec = client.NamespacedPodExecAsync("sleeper", "default", "main", ["sleep", "30"], false,
            async (_, output, _) => await output.CopyToAsync(Stream.Null), CancellationToken.None);
        await Eventually.TrueAsync(() => server.ExecCalls.Count == 1, "the exec reached the server", Timeout);
        await server.ExecCalls[0].Started.WaitAsync(Timeout);

        await server.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(137, await server.ExecCalls[0].ExitCode.WaitAsync(Timeout));
        await Record.ExceptionAsync(() => exec.WaitAsync(Timeout));
    }

    [Fact]
    public void CSharpCreateOfAnInvalidPodThrowsTheStatusTheApiWouldSend()
    {
        var pod = FakeKubeApiServer.NewPod("default", "Not_A_DNS_Name");

        var thrown = Assert.Throws<KubeStatusException>(() => server.CreatePod(pod));

        Assert.Equal((422, "Invalid", "metadata.name"), (thrown.Code, thrown.Status.Reason, thrown.Status.Details.Causes[0].Field));
        Assert.StartsWith("Pod \"Not_A_DNS_Name\" is invalid: metadata.name: Invalid value: \"Not_A_DNS_Name\": a lowercase RFC 1123 subdomain", thrown.Message, StringComparison.Ordinal);
    }

    private WatchRecorder<V1Pod> WatchPods(string resourceVersion) =>
        WatchRecorder<V1Pod>.Start((onError, ct) => client.CoreV1.WatchListNamespacedPodAsync(
            "default", resourceVersion: resourceVersion, onError: onError, cancellationToken: ct));
}
