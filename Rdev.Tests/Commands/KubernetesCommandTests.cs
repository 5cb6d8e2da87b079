using System.Net;
using System.Text.Json;
using Rdev.Api.Execution;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Commands;

/// <summary>The command API on the kubernetes runtime: exec into pods of the fake API server with KubernetesClient.</summary>
[Trait("Category", "Slow")]
public sealed class KubernetesCommandTests(KubernetesCommandTests.Fixture fixture) : IClassFixture<KubernetesCommandTests.Fixture>
{
    /// <summary>One database, fake API server and API replica for the class; each test adds a pod project of its own.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();

        public FakeKubeApiServer Server { get; private set; } = null!;

        public HttpClient Api { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            Server = await Host.StartFakeKubernetesAsync();
            // Like a real cluster: a dropped exec connection does not kill the process.
            Server.KillExecProcessOnDisconnect = false;
            var (settings, services) = CommandsHost.KubernetesRuntime(Server);
            settings["Rdev:Commands:ClaudeCommand"] = FakeClaude.Install(Host.Root.FullName);
            Api = Host.StartApi(settings, services);
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    private readonly CommandsHost host = fixture.Host;
    private readonly FakeKubeApiServer server = fixture.Server;
    private readonly HttpClient api = fixture.Api;

    [Fact]
    public async Task ClaudeRunsInThePodAndStreamsParsedEvents()
    {
        var workspace = await host.AddPodProjectAsync("pod-claude", server);
        await CommandsHost.WaitForProjectAsync(api, "pod-claude");

        var command = await CommandsHost.StartAsync(api, "pod-claude", "claude", new { prompt = "a `quoted` $(prompt)" });
        var events = await CommandsHost.ReadStreamAsync(api, command.GetProperty("id").GetString()!);

        Assert.Equal(5, events.Count(e => e.EventType == "claude"));
        Assert.Equal("succeeded", JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("status").GetString());
        Assert.Equal("a `quoted` $(prompt)", FakeClaude.ReadPrompt(workspace));
        var exec = Assert.Single(server.ExecCalls, call => call.Pod == "claudebox-pod-claude-0" && call.Command.Contains("--output-format"));
        Assert.Equal("main", exec.Container);
        // The session's stdin is the run folder's in file, which rdev appends to through an exec of its own.
        Assert.Contains(server.ExecCalls, call => call.Pod == "claudebox-pod-claude-0" && call.Command.Contains(RunFolder.InputScript));
    }

    [Fact]
    public async Task OutputPostgresCannotStoreIsStoredWithReplacementsAndFreesTheSlot()
    {
        await host.AddPodProjectAsync("pod-unstorable", server, maxConcurrent: 5);
        await CommandsHost.WaitForProjectAsync(api, "pod-unstorable");

        await UnstorableOutput.StoredWithReplacementsAndSlotsFreedAsync(api, "pod-unstorable");
    }

    [Fact]
    public async Task GitExitCodeAndStderrComeBackFromThePod()
    {
        await host.AddPodProjectAsync("pod-git", server);
        await CommandsHost.WaitForProjectAsync(api, "pod-git");

        var command = await CommandsHost.StartAsync(api, "pod-git", "git", new { args = new[] { "status" } });
        var id = command.GetProperty("id").GetString()!;
        var record = await CommandsHost.WaitForFinalAsync(api, id);

        // Not a git repository: git says so on stderr and exits 128.
        Assert.Equal("failed", record.GetProperty("status").GetString());
        Assert.Equal(128, record.GetProperty("exit_code").GetInt32());
        Assert.Contains("not a git repository", await api.GetStringAsync($"/api/v1/commands/{id}/output"));
        Assert.DoesNotContain("rdev-pgid", await api.GetStringAsync($"/api/v1/commands/{id}/output"));
    }

    [Fact]
    public async Task CancelKillsTheProcessTreeInThePod()
    {
        await host.AddPodProjectAsync("pod-cancel", server);
        await CommandsHost.WaitForProjectAsync(api, "pod-cancel");
        await Processes.CancelKillsTheTreeAsync(api, "pod-cancel");

        // The signal went through a second exec into the same pod.
        Assert.Contains(server.ExecCalls, call => call.Pod == "claudebox-pod-cancel-0" && call.Command.Contains(Rdev.Api.Execution.RunFolder.SignalScript));
    }

    [Fact]
    public async Task TimeoutAndOutputCapWorkInThePod()
    {
        await host.AddPodProjectAsync("pod-bounds", server);
        await CommandsHost.WaitForProjectAsync(api, "pod-bounds");

        var slow = await CommandsHost.StartAsync(api, "pod-bounds", "shell", new { command = "sleep 60", timeout_seconds = 1 });
        Assert.Equal("timed_out", (await CommandsHost.WaitForFinalAsync(api, slow.GetProperty("id").GetString()!)).GetProperty("status").GetString());

        var (capSettings, capServices) = CommandsHost.KubernetesRuntime(server);
        capSettings["Rdev:Commands:MaxOutputBytes"] = "1000";
        var capped = host.StartApi(capSettings, capServices);
        await CommandsHost.WaitForProjectAsync(capped, "pod-bounds");
        var loud = await CommandsHost.StartAsync(capped, "pod-bounds", "shell", new { command = "head -c 5000 /dev/zero | tr '\\0' x" });
        var record = await CommandsHost.WaitForFinalAsync(capped, loud.GetProperty("id").GetString()!);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.True(record.GetProperty("truncated").GetBoolean());
        Assert.Equal(1000, record.GetProperty("output_bytes").GetInt64());
    }

    [Fact]
    public async Task MissingPodFailsTheCommandWithAnExplanation()
    {
        await host.AddPodProjectAsync("pod-gone", server);
        await CommandsHost.WaitForProjectAsync(api, "pod-gone");
        server.DeletePod("default", "claudebox-pod-gone-0");

        var command = await CommandsHost.StartAsync(api, "pod-gone", "git", new { args = new[] { "status" } });
        var record = await CommandsHost.WaitForFinalAsync(api, command.GetProperty("id").GetString()!);
        Assert.Equal("failed", record.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(record.GetProperty("error").GetString()));
    }
}

public static class Processes
{
    /// <summary>
    /// Starts a command that leaves two background processes, cancels it, and asserts it ends <c>cancelled</c> with no
    /// process of it left on the host (where the local runtime and the fake pods run). Returns the command id.
    /// </summary>
    public static async Task<string> CancelKillsTheTreeAsync(HttpClient api, string project)
    {
        var marker = Random.Shared.Next(100_000, 999_999).ToString();
        var command = await CommandsHost.StartAsync(api, project, "shell", new { command = $"sleep {marker}1 & sleep {marker}2 & wait" });
        var id = command.GetProperty("id").GetString()!;
        await Eventually.TrueAsync(() => Task.FromResult(Matching("sleep " + marker) == 2), "both sleeps running");

        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/v1/commands/{id}/cancel", null)).StatusCode);
        Assert.Equal("cancelled", (await CommandsHost.WaitForFinalAsync(api, id)).GetProperty("status").GetString());
        await Eventually.TrueAsync(() => Task.FromResult(Matching("sleep " + marker) == 0), "no process of the command left");
        return id;
    }

    /// <summary>How many processes on this host have a command line starting with <paramref name="prefix"/>.</summary>
    public static int Matching(string prefix) =>
        Directory.GetDirectories("/proc").Count(dir =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').StartsWith(prefix, StringComparison.Ordinal);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        });
}
