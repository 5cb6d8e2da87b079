using System.Text;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rdev.Api;
using Rdev.Api.Execution;
using Rdev.Api.Kubernetes;
using Rdev.Api.Local;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Execution;

/// <summary>
/// The run folder protocol through the runner port, on both runtimes (the fake API server runs each exec as a real
/// process here): input lines reach the command's stdin, attaching from byte offsets reads the rest exactly once, and a
/// run that is gone is lost.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RunFolderTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("rdev-runfolder-");
    private FakeKubeApiServer server = null!;
    private ServiceProvider services = null!;

    public async Task InitializeAsync()
    {
        server = await FakeKubeApiServer.StartAsync().WaitAsync(Timeout);
        var pod = FakeKubeApiServer.NewPod("default", "box");
        pod.Spec.Containers[0].Env = [new k8s.Models.V1EnvVar { Name = "TMPDIR", Value = root.CreateSubdirectory("pod-tmp").FullName }];
        server.CreatePod(pod);
        var collection = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging()
            .AddKubernetesRuntime();
        collection.AddSingleton(new KubernetesClientConfiguration { Host = server.Url });
        services = collection.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await server.DisposeAsync();
        root.Delete(recursive: true);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task InputLinesReachTheCommandInOrderAndClosingTheInputEndsIt(string runtime)
    {
        var (runner, target) = Runtime(runtime);
        await using var process = await runner.StartAsync(target,
            new RunRequest(Guid.CreateVersion7(), ["sh", "-c", "while read -r l; do echo \"got:$l\"; done; echo eof"], Input: true),
            CancellationToken.None).WaitAsync(Timeout);

        await process.WriteInputLineAsync("first", CancellationToken.None);
        // Shell syntax in a line is data: it reaches the command literally.
        await process.WriteInputLineAsync("two $(words) 'and' \"quotes\"; exit 9", CancellationToken.None);
        await process.CloseInputAsync(CancellationToken.None);

        var (stdout, _) = await process.ReadAllAsync(Timeout);
        Assert.Equal("got:first\ngot:two $(words) 'and' \"quotes\"; exit 9\neof\n", stdout);
        Assert.Equal(0, await process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => process.WriteInputLineAsync("late", CancellationToken.None));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task AttachingAtTheReadOffsetsGetsTheRestExactlyOnceAndTheTrueExitCode(string runtime)
    {
        var (runner, target) = Runtime(runtime);
        var id = Guid.CreateVersion7();
        var gate = Path.Combine(target.Workspace, $"go-{id}");
        // The first output, then (once the gate file exists) the rest: stderr, a character split by nothing but bytes, exit 7.
        var script = $"printf 'one é\\n'; while [ ! -e '{gate}' ]; do sleep 0.05; done; printf 'err\\n' >&2; printf 'two ü\\n'; exit 7";
        var first = await runner.StartAsync(target, new RunRequest(id, ["sh", "-c", script]), CancellationToken.None).WaitAsync(Timeout);
        var read = new Dictionary<OutputStream, MemoryStream> { [OutputStream.Stdout] = new(), [OutputStream.Stderr] = new() };
        await using (var output = first.ReadOutputAsync(CancellationToken.None).GetAsyncEnumerator())
        {
            while (read[OutputStream.Stdout].Length < Encoding.UTF8.GetByteCount("one é\n"))
            {
                Assert.True(await output.MoveNextAsync().AsTask().WaitAsync(Timeout));
                read[output.Current.Stream].Write(output.Current.Data.Span);
            }
        }

        // The replica that started it lets go; the command keeps running and finishes meanwhile.
        await first.DisposeAsync();
        await File.WriteAllTextAsync(gate, "");
        var offsets = new RunOffsets(read[OutputStream.Stdout].Length, read[OutputStream.Stderr].Length);
        await using var attached = await runner.AttachAsync(target, id, offsets, CancellationToken.None).WaitAsync(Timeout);
        var (stdout, stderr) = await attached.ReadAllAsync(Timeout);

        Assert.Equal("one é\ntwo ü\n", Encoding.UTF8.GetString(read[OutputStream.Stdout].ToArray()) + stdout);
        Assert.Equal("err\n", stderr);
        Assert.Equal(7, await attached.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains(id, await runner.ListRunsAsync(target, CancellationToken.None));
        await runner.RemoveRunAsync(target, id, CancellationToken.None);
        Assert.DoesNotContain(id, await runner.ListRunsAsync(target, CancellationToken.None));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task AttachingToARunThatIsGoneIsLost(string runtime)
    {
        var (runner, target) = Runtime(runtime);
        await using var process = await runner.AttachAsync(target, Guid.CreateVersion7(), default, CancellationToken.None).WaitAsync(Timeout);
        await Assert.ThrowsAsync<RunLostException>(() => process.WaitForExitAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    private (ICommandRunner Runner, RunTarget Target) Runtime(string runtime)
    {
        var workspace = root.CreateSubdirectory($"ws-{runtime}").FullName;
        if (runtime == "kubernetes")
        {
            return (services.GetRequiredService<KubernetesCommandRunner>(), new RunTarget("demo", workspace, "default", "box", "main"));
        }

        var options = Options.Create(new LocalRuntimeOptions { RunsRoot = Path.Combine(root.FullName, "runs") });
        var users = new LocalUserPolicy(options, NullLogger<LocalUserPolicy>.Instance);
        return (new LocalCommandRunner(users, options, NullLogger<LocalCommandRunner>.Instance), new RunTarget("demo", workspace));
    }
}
