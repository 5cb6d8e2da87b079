using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Kubernetes;

/// <summary>The fake must satisfy the real kubectl 1.32: discovery, list, watch and exec over WebSocket (v5).</summary>
[Trait("Category", "Slow")]
public sealed class KubectlContractTests : IAsyncLifetime
{
    private const string Project = "rdev.orchard9.ai/project";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private FakeKubeApiServer server = null!;
    private Kubectl kubectl = null!;
    private string cacheDir = "";

    public async Task InitializeAsync()
    {
        server = await FakeKubeApiServer.StartAsync().WaitAsync(Timeout);
        cacheDir = Directory.CreateTempSubdirectory("kubectl-cache-").FullName;
        kubectl = new Kubectl(server.WriteKubeconfig(), cacheDir);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Directory.Delete(cacheDir, recursive: true);
    }

    [KubectlFact]
    public async Task KubectlGetWithLabelSelectorSeesExactlyTheLabeledPods()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "alpha", new Dictionary<string, string> { [Project] = "true" }));
        server.CreatePod(FakeKubeApiServer.NewPod("default", "beta", new Dictionary<string, string> { [Project] = "true", ["rdev.orchard9.ai/name"] = "beta" }));
        server.CreatePod(FakeKubeApiServer.NewPod("default", "gamma", new Dictionary<string, string> { [Project] = "false" }));
        server.CreatePod(FakeKubeApiServer.NewPod("default", "delta"));
        server.CreatePod(FakeKubeApiServer.NewPod("other", "epsilon", new Dictionary<string, string> { [Project] = "true" }));

        var result = await kubectl.RunAsync(Timeout, null, "get", "pods", "-l", $"{Project}=true", "-o", "json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var names = json.RootElement.GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("metadata").GetProperty("name").GetString()).ToList();
        Assert.Equal(["alpha", "beta"], names);
    }

    [KubectlFact]
    public async Task KubectlWatchSeesAPodCreatedAfterItStarts()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "early"));
        using var watch = kubectl.Start(false, "get", "pods", "-w", "-o", "json", "--output-watch-events");
        var output = new StringBuilder();
        var reading = ReadAllAsync(watch, output);
        try
        {
            await server.WaitForWatchesAsync(1, Timeout);
            server.CreatePod(FakeKubeApiServer.NewPod("default", "late"));
            await Eventually.TrueAsync(() => Contains(output, "\"late\""), "kubectl printed the late event", Timeout);
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            await reading.WaitAsync(Timeout);
        }

        var events = (await ParseConcatenatedJsonAsync(output.ToString()))
            .Select(e => (Type: e.GetProperty("type").GetString(), Name: e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString()))
            .ToList();
        Assert.Equal([("ADDED", "early"), ("ADDED", "late")], events);
    }

    [KubectlFact]
    public async Task KubectlSeesStdoutStderrAndExitCodeThreeFromExec()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "shell"));

        var result = await kubectl.RunAsync(Timeout, null, "exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.Stdout);
        Assert.StartsWith("err\n", result.Stderr);
        var call = Assert.Single(server.ExecCalls);
        Assert.Equal(["sh", "-c", "echo out; echo err >&2; exit 3"], call.Command);
        Assert.Equal(("main", false, FakeKubeApiServer.V5ChannelProtocol), (call.Container, call.Stdin, call.Protocol));
    }

    [KubectlFact]
    public async Task KubectlExecWithPipedStdinGetsTheInputBackFromCat()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "echoer"));
        const string input = "hello\nfrom stdin\n";

        var result = await kubectl.RunAsync(Timeout, input, "exec", "-i", "echoer", "--", "cat");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(input, result.Stdout);
        Assert.True(Assert.Single(server.ExecCalls).Stdin);
    }

    private static async Task ReadAllAsync(Process process, StringBuilder output)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            lock (output)
            {
                output.Append(buffer, 0, read);
            }
        }
    }

    private static bool Contains(StringBuilder output, string text)
    {
        lock (output)
        {
            return output.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    /// <summary>kubectl -o json -w prints one pretty-printed JSON document per event, back to back.</summary>
    private static async Task<List<JsonElement>> ParseConcatenatedJsonAsync(string text)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var documents = new List<JsonElement>();
        await foreach (var element in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(stream, topLevelValues: true))
        {
            documents.Add(element);
        }
        return documents;
    }
}
