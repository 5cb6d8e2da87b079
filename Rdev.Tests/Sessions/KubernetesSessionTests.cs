using System.Net;
using k8s.Models;
using Rdev.Api.Execution;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using static Rdev.Tests.Sessions.SessionClient;

namespace Rdev.Tests.Sessions;

/// <summary>
/// A Claude session with the real CLI on the kubernetes runtime: its stdin is the run folder's in file in the pod,
/// written through the pod exec (through the fake API server, whose exec runs the process locally with the pod's
/// container environment).
/// </summary>
[Trait("Category", "Slow")]
public sealed class KubernetesSessionTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();
    private FakeAnthropicApi model = null!;
    private FakeKubeApiServer server = null!;
    private HttpClient api = null!;
    private string workspace = null!;

    public async Task InitializeAsync()
    {
        var cli = RealClaude.CliPath;
        await host.InitializeAsync();
        model = await FakeAnthropicApi.StartAsync();
        server = await host.StartFakeKubernetesAsync();
        var (settings, services) = CommandsHost.KubernetesRuntime(server);
        settings["Rdev:Commands:ClaudeCommand"] = cli;
        api = host.StartApi(settings, services);

        workspace = Directory.CreateDirectory(Path.Combine(host.Root.FullName, "pod-session")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(host.Root.FullName, ".pod-home")).FullName;
        var pod = FakeKubeApiServer.NewPod("default", "claudebox-pod-session-0",
            new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true", ["rdev.orchard9.ai/name"] = "pod-session" });
        // The pod's own environment gives Claude Code its API endpoint and key, as in a real deployment.
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "ANTHROPIC_BASE_URL", Value = model.Url },
            new V1EnvVar { Name = "ANTHROPIC_API_KEY", Value = "sk-ant-test-not-a-secret" },
            new V1EnvVar { Name = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", Value = "1" },
            new V1EnvVar { Name = "HOME", Value = home },
        ];
        server.CreatePod(pod);
        server.SetPodReady("default", pod.Metadata.Name, true);
        server.SetPodWorkspace("default", pod.Metadata.Name, workspace);
        await host.PublishProjectAsync(new ProjectRow("pod-session", workspace)
        {
            Runtime = "kubernetes", Namespace = "default", Pod = pod.Metadata.Name, Container = "main",
        });
        await CommandsHost.WaitForProjectAsync(api, "pod-session");
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await model.DisposeAsync();
    }

    [Fact]
    public async Task ApprovalFollowUpAndCloseReachTheCliThroughThePodExec()
    {
        var file = Path.Combine(workspace, "from-the-pod.txt");
        var id = await StartAsync(api, new { prompt = $"please WRITE {file}", keep_open = true }, "pod-session");

        await WaitForStatusAsync(api, id, "waiting_approval");
        var approvalId = Assert.Single(await ApprovalsAsync(api, id)).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(api, id, approvalId, new { decision = "allow" })).StatusCode);
        await WaitForStatusAsync(api, id, "waiting_input");
        Assert.Equal(FakeAnthropicApi.WrittenContent, await File.ReadAllTextAsync(file));

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(api, id, "messages", new { text = "and from the pod" })).StatusCode);
        await Eventually.TrueAsync(async () =>
            (await CommandsHost.GetCommandAsync(api, id)).GetProperty("result").GetString() == "echo: and from the pod",
            "the follow-up turn ended");

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(api, id, "close")).StatusCode);
        var (statuses, _) = await StreamAsync(api, id);
        Assert.Equal(["queued", "running", "waiting_approval", "running", "waiting_input", "running", "waiting_input", "succeeded"], statuses);
        Assert.Single(server.ExecCalls, call => call.Command.Contains("--permission-prompt-tool"));
        // Prompt, approval answer, follow-up: each line appended to the run folder's in file through an exec.
        Assert.True(server.ExecCalls.Count(call => call.Command.Contains(RunFolder.InputScript)) >= 3);
    }
}
