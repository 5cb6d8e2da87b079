using System.Diagnostics;
using System.Text;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api;
using Rdev.Api.Execution;
using Rdev.Api.Kubernetes;
using Rdev.Core.Kubernetes;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using static Rdev.Tests.Execution.KubernetesTestProbes;

namespace Rdev.Tests.Execution;

/// <summary>The Kubernetes runner against the fake API server, which runs each exec as a real local process.</summary>
[Trait("Category", "Slow")]
public sealed class KubernetesCommandRunnerTests : IAsyncLifetime
{
    private const string Namespace = "default";
    private const string Pod = "box";
    private const int FailureThreshold = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider time = new();
    private readonly List<long> groups = [];
    private readonly DirectoryInfo podTemp = Directory.CreateTempSubdirectory("rdev-k8s-tmp-");
    private FakeKubeApiServer server = null!;
    private ServiceProvider services = null!;
    private KubernetesCommandRunner runner = null!;
    private string workspace = null!;
    private RunTarget target = null!;

    public async Task InitializeAsync()
    {
        server = await FakeKubeApiServer.StartAsync().WaitAsync(Timeout);
        workspace = Directory.CreateTempSubdirectory("rdev-k8s-ws-").FullName;
        // The pod's temp folder, where its run folders live.
        var pod = FakeKubeApiServer.NewPod(Namespace, Pod);
        pod.Spec.Containers[0].Env = [new k8s.Models.V1EnvVar { Name = "TMPDIR", Value = podTemp.FullName }];
        server.CreatePod(pod);
        target = new RunTarget("demo", workspace, Namespace, Pod, "main");
        services = BuildServices(new KubernetesClientConfiguration { Host = server.Url });
        runner = services.GetRequiredService<KubernetesCommandRunner>();
    }

    public async Task DisposeAsync()
    {
        // Only groups that still have members: an ended group's id may belong to someone else by now.
        foreach (var group in groups.Where(g => ProcessesInGroup(g).Count > 0))
        {
            KillGroup(group);
        }
        await services.DisposeAsync();
        await server.DisposeAsync();
        Directory.Delete(workspace, recursive: true);
        podTemp.Delete(recursive: true);
    }

    [Fact]
    public async Task StdoutAndStderrArriveAsSeparateStreamsWithTheExitCode()
    {
        var failed = await RunAsync("sh", "-c", "echo out; echo err >&2; exit 3");
        var succeeded = await RunAsync("true");

        Assert.Equal((3, "out\n", "err\n"), failed);
        Assert.Equal((0, "", ""), succeeded);
        var call = server.ExecCalls[0];
        // The run folder protocol's start script, with the user's argv only after rdev's own positional parameters.
        Assert.Equal(["sh", "-c", RunFolder.StartScript, "rdev", RunFolder.KeeperScript, ""], call.Command.Take(6));
        Assert.Equal(workspace, call.Command[7]);
        // The start exec goes on as the follow script, so the output needs no second exec.
        Assert.Equal(RunFolder.FollowScript, call.Command[10]);
        Assert.Equal(["sh", "-c", "echo out; echo err >&2; exit 3"], call.Command.Skip(11));
        Assert.Equal(("main", false, false), (call.Container, call.Stdin, call.Tty));
    }

    [Fact]
    public async Task CommandRunsInTheWorkspaceEvenWhenItsPathHasSpacesAndQuotes()
    {
        var odd = Directory.CreateDirectory(Path.Combine(workspace, "my project 'single' \"double\" $HOME `x`")).FullName;

        var plain = await RunAsync("pwd");
        var quoted = await RunAsync(target with { Workspace = odd }, "pwd");

        Assert.Equal((0, workspace + "\n", ""), plain);
        Assert.Equal((0, odd + "\n", ""), quoted);
        Assert.NotEqual(workspace, server.GetPodWorkspace(Namespace, Pod));
    }

    [Fact]
    public async Task HostileArgumentsArePrintedLiterallyAndRunNothing()
    {
        File.WriteAllText(Path.Combine(workspace, "existing.txt"), "");
        string[] hostile = ["$(touch pwned)", "`touch pwned`", "a; touch pwned", "a | touch pwned", "a && touch pwned", "line1\nline2",
            "'\"", "*", "-n", "--", "-", "$HOME", "${IFS}", "\\", "", " spaced "];

        var (exitCode, stdout, stderr) = await RunAsync(["printf", "%s\\n", .. hostile]);

        Assert.Equal((0, string.Concat(hostile.Select(a => a + "\n")), ""), (exitCode, stdout, stderr));
        Assert.False(File.Exists(Path.Combine(workspace, "pwned")));
        Assert.Equal(["existing.txt"], Directory.GetFileSystemEntries(workspace).Select(Path.GetFileName));
    }

    [Fact]
    public async Task TheCommandLeadsItsProcessGroupAndTheMarkerNeverReachesTheOutput()
    {
        await using var process = await StartAsync("sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat; printf 'rdev-pgid:1\\n' >&2; printf 'rdev-pgid:2\\n'; echo after >&2");

        var (stdout, stderr) = await process.ReadAllAsync(Timeout);

        Assert.Equal($"{process.Handle}\n{process.Handle}\nrdev-pgid:2\n", stdout);
        Assert.Equal("rdev-pgid:1\nafter\n", stderr);
        Assert.Equal(0, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task TheStartScriptStartsANewGroupAlsoWhenItsShellAlreadyLeadsOne()
    {
        // runc starts an exec as a session leader, the fake does not: run the start script that way by hand.
        var info = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workspace };
        var id = Guid.CreateVersion7();
        var request = new RunRequest(id, ["sh", "-c", "echo $$; cut -d' ' -f5,6 /proc/$$/stat; kill -TERM $$"]);
        foreach (var argument in RunFolder.StartCommand(podTemp.FullName, request, workspace))
        {
            info.ArgumentList.Add(argument);
        }

        using var wrapper = Process.Start(info)!;
        var stderr = wrapper.StandardError.ReadToEndAsync();
        await wrapper.StandardOutput.ReadToEndAsync();
        await wrapper.WaitForExitAsync().WaitAsync(Timeout);
        var folder = Path.Combine(podTemp.FullName, RunFolder.Id(id));
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(folder, "exit")), "the exit file written", Timeout);

        var lines = File.ReadAllText(Path.Combine(folder, "out")).Split('\n');
        var pid = lines[0];
        Assert.Equal($"{pid} {pid}", lines[1]);
        Assert.StartsWith($"rdev-pgid:{pid}\n", await stderr, StringComparison.Ordinal);
        Assert.NotEqual(wrapper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), pid);
        Assert.Equal(0, wrapper.ExitCode);
        Assert.StartsWith("143 ", File.ReadAllText(Path.Combine(folder, "exit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TerminateEndsTheWholeProcessTree()
    {
        await using var process = await StartAsync("sh", "-c", "sleep 300 & sleep 300 & wait");
        var pgid = long.Parse(process.Handle);
        var reading = process.ReadAllAsync(Timeout);
        await Eventually.TrueAsync(() => ProcessesInGroup(pgid).Count == 3, "the group runs 3 processes", Timeout);

        await process.SignalAsync(ProcessSignal.Terminate, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(143, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
        await Eventually.TrueAsync(() => ProcessesInGroup(pgid).Count == 0, "no process of the group is left", Timeout);
        await reading.WaitAsync(Timeout);
    }

    [Fact]
    public async Task KillEndsATreeThatIgnoresTerminate()
    {
        await using var process = await StartAsync("sh", "-c", "trap '' TERM; sleep 300 & wait");
        var pgid = long.Parse(process.Handle);
        var reading = process.ReadAllAsync(Timeout);
        await Eventually.TrueAsync(() => ProcessesInGroup(pgid).Count == 2, "the group runs 2 processes", Timeout);

        await process.SignalAsync(ProcessSignal.Terminate, CancellationToken.None).WaitAsync(Timeout);
        // The tree ignores TERM: nothing happening for a moment is the point, so here a pause is the scenario.
        await Task.Delay(300);
        var afterTerminate = ProcessesInGroup(pgid).Count;
        await process.SignalAsync(ProcessSignal.Kill, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(2, afterTerminate);
        Assert.Equal(137, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
        await Eventually.TrueAsync(() => ProcessesInGroup(pgid).Count == 0, "no process of the group is left", Timeout);
        await reading.WaitAsync(Timeout);
    }

    [Fact]
    public async Task DisposingMidRunLeavesTheCommandRunningAndASignalStillReachesIt()
    {
        var id = Guid.CreateVersion7();
        var process = await runner.StartAsync(target, new RunRequest(id, ["sleep", "300"]), CancellationToken.None).WaitAsync(Timeout);
        var pgid = long.Parse(process.Handle);
        groups.Add(pgid);

        await process.DisposeAsync();
        // Nothing may happen after the dispose: a pause is the scenario.
        await Task.Delay(300);
        var afterDispose = ProcessesInGroup(pgid).Count;
        await process.SignalAsync(ProcessSignal.Terminate, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(1, afterDispose);
        // Attached again, the run reports how the signal ended it.
        await using var attached = await runner.AttachAsync(target, id, default, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(143, await attached.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
        await Eventually.TrueAsync(() => ProcessesInGroup(pgid).Count == 0, "no process of the group is left", Timeout);
    }

    [Fact]
    public async Task RunnerSignalsAGroupByHandleAndAGoneGroupIsNoError()
    {
        server.KillExecProcessOnDisconnect = false;
        var process = await StartAsync("sleep", "300");
        var handle = process.Handle;
        await process.DisposeAsync();

        await runner.SignalAsync(target, handle, ProcessSignal.Kill, CancellationToken.None).WaitAsync(Timeout);
        await Eventually.TrueAsync(() => ProcessesInGroup(long.Parse(handle)).Count == 0, "no process of the group is left", Timeout);
        await runner.SignalAsync(target, handle, ProcessSignal.Kill, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(["sh", "-c", ExecWrapper.SignalScript, "rdev", "9", handle], server.ExecCalls[^1].Command);
    }

    [Fact]
    public async Task ADroppedConnectionIsFollowedAgainFromWhereItStopped()
    {
        server.KillExecProcessOnDisconnect = true;
        var marker = Random.Shared.Next(100_000, 999_999);
        await using var process = await StartAsync("sh", "-c", $"echo started; while [ ! -e go-{marker} ]; do sleep 0.1; done; echo done; exit 4");
        await using var output = process.ReadOutputAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await output.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("started\n", Encoding.UTF8.GetString(output.Current.Data.Span));

        server.AbortAllExecs();
        await File.WriteAllTextAsync(Path.Combine(workspace, $"go-{marker}"), "");

        Assert.True(await output.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("done\n", Encoding.UTF8.GetString(output.Current.Data.Span));
        Assert.False(await output.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(4, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task AMissingPodBlamesTheProjectAndDoesNotOpenTheCircuit()
    {
        var ghost = target with { Pod = "ghost" };

        for (var i = 0; i < FailureThreshold + 1; i++)
        {
            var thrown = await Assert.ThrowsAsync<RuntimeUnavailableException>(() => runner.StartAsync(ghost, ["true"], CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(RuntimeBlame.Project, thrown.Blame);
            Assert.Equal("The project's pod was not found.", thrown.Message);
        }

        Assert.Equal(KubernetesCircuitState.Closed, services.GetRequiredService<KubernetesCircuit>().State);
        Assert.Empty(server.ExecCalls);
    }

    [Fact]
    public async Task AMissingWorkspaceBlamesTheProject()
    {
        var thrown = await Assert.ThrowsAsync<RuntimeUnavailableException>(() =>
            runner.StartAsync(target with { Workspace = Path.Combine(workspace, "missing") }, ["true"], CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(RuntimeBlame.Project, thrown.Blame);
        Assert.Equal("The command could not be started in the project's workspace.", thrown.Message);
    }

    [Fact]
    public async Task AnUnreachableApiServerIsAKubernetesOutage()
    {
        await using var unreachable = BuildServices(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" });

        var thrown = await Assert.ThrowsAsync<RuntimeUnavailableException>(() =>
            unreachable.GetRequiredService<KubernetesCommandRunner>().StartAsync(target, ["true"], CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(RuntimeBlame.Runtime, thrown.Blame);
        Assert.Equal("The Kubernetes API is unavailable.", thrown.Message);
    }

    [Fact]
    public async Task RepeatedOutagesOpenTheCircuitWhichFailsFastThenLetsATrialThroughAfterTheBreak()
    {
        var circuit = services.GetRequiredService<KubernetesCircuit>();
        using var gauge = new GaugeReader(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "rdev_kubernetes_circuit_state");
        server.FailNext(500, $"/api/v1/namespaces/{Namespace}/pods/{Pod}/exec", count: FailureThreshold);

        for (var i = 0; i < FailureThreshold; i++)
        {
            var outage = await Assert.ThrowsAsync<RuntimeUnavailableException>(() => runner.StartAsync(target, ["true"], CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(RuntimeBlame.Runtime, outage.Blame);
        }
        var requestsWhenOpened = server.Requests.Count;
        var (openState, openGauge) = (circuit.State, gauge.Read());
        var fast = await Assert.ThrowsAsync<RuntimeUnavailableException>(() => runner.StartAsync(target, ["true"], CancellationToken.None).WaitAsync(Timeout));
        var requestsWhileOpen = server.Requests.Count - requestsWhenOpened;

        time.Advance(BreakDuration);
        var (trialState, trialGauge) = (circuit.State, gauge.Read());
        var trial = await RunAsync("echo", "back");

        Assert.Equal((KubernetesCircuitState.Open, 2), (openState, openGauge));
        Assert.Equal("The Kubernetes API is unavailable (circuit open).", fast.Message);
        Assert.Equal(RuntimeBlame.Runtime, fast.Blame);
        Assert.Equal(0, requestsWhileOpen);
        Assert.Equal((KubernetesCircuitState.HalfOpen, 1), (trialState, trialGauge));
        Assert.Equal((0, "back\n", ""), trial);
        Assert.Equal((KubernetesCircuitState.Closed, 0), (circuit.State, gauge.Read()));
    }

    [Fact]
    public async Task TwentyMegabytesStreamCompletelyAndAStalledReaderHoldsTheCommandBack()
    {
        const int size = 20_000_000;
        await using var process = await StartAsync("sh", "-c", $"head -c {size} /dev/zero; echo done >&2");

        // Nobody reads for a second: that the command cannot finish meanwhile is the scenario.
        await Task.Delay(1000);
        var finishedWhileStalled = server.ExecCalls[^1].ExitCode.IsCompleted;
        long stdout = 0;
        var stderr = new StringBuilder();
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (var chunk in process.ReadOutputAsync(cts.Token))
        {
            if (chunk.Stream == OutputStream.Stdout)
            {
                stdout += chunk.Data.Length;
            }
            else
            {
                stderr.Append(Encoding.UTF8.GetString(chunk.Data.Span));
            }
        }

        Assert.False(finishedWhileStalled);
        Assert.Equal((size, "done\n"), (stdout, stderr.ToString()));
        Assert.Equal(0, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task RegistrationServesTheRunnerAsTheRunnerPortAndRejectsABreakPollyCannotKeep()
    {
        await using var invalid = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(
                new Dictionary<string, string?> { ["Rdev:Kubernetes:CircuitBreakDuration"] = "00:00:00.1" }).Build())
            .AddLogging()
            .AddKubernetesRuntime()
            .BuildServiceProvider();

        Assert.Same(runner, services.GetRequiredService<ICommandRunner>());
        var thrown = Assert.Throws<OptionsValidationException>(() => invalid.GetRequiredService<KubernetesCircuit>());
        Assert.Contains("CircuitBreakDuration", thrown.Message, StringComparison.Ordinal);
    }

    private ServiceProvider BuildServices(KubernetesClientConfiguration configuration)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rdev:Kubernetes:CircuitFailureThreshold"] = FailureThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rdev:Kubernetes:CircuitBreakDuration"] = BreakDuration.ToString(),
            ["Rdev:Kubernetes:ConnectTimeout"] = "00:00:05",
        };
        var collection = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddKubernetesRuntime();
        // Registered after AddKubernetesRuntime, as a test would: the last registration wins.
        collection.AddSingleton(configuration);
        collection.AddSingleton<TimeProvider>(time);
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] argv) => RunAsync(target, argv);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(RunTarget at, params string[] argv)
    {
        await using var process = await runner.StartAsync(at, argv, CancellationToken.None).WaitAsync(Timeout);
        var (stdout, stderr) = await process.ReadAllAsync(Timeout);
        return (await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout), stdout, stderr);
    }

    private async Task<IRunningProcess> StartAsync(params string[] argv)
    {
        var process = await runner.StartAsync(target, argv, CancellationToken.None).WaitAsync(Timeout);
        groups.Add(long.Parse(process.Handle));
        return process;
    }
}
