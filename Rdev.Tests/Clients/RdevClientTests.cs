using System.Text;
using Rdev.Client;
using Rdev.Client.Generated.Models;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Clients;

/// <summary>
/// Rdev.Client as the CLI and the console use it, against the real API on real Postgres: the generated requests, the
/// stream readers to the end and across a replica going away, and problems as <see cref="RdevProblemException"/>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RdevClientTests(RdevClientTests.Fixture fixture) : IClassFixture<RdevClientTests.Fixture>
{
    public const string Project = "client";

    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();

        /// <summary>The replica that runs the commands.</summary>
        public ApiFactory Runner { get; private set; } = null!;

        public RdevClient Admin { get; private set; } = null!;

        public string Workspace { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            Runner = Host.StartReplica().Factory;
            Admin = ClientOf(Runner, CommandsHost.AdminKey);
            var workspace = Workspace = await Host.AddProjectAsync(Project, maxConcurrent: 50);
            GitConfinementTests.InitRepository(workspace);
            GitConfinementTests.CommitReadme(workspace, "hello from the client test\n", "first commit from the client test");
            await ApiHost.WaitForProjectAsync(ApiHost.WithKey(Runner.CreateClient(), CommandsHost.AdminKey), Project);
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    private readonly RdevClient admin = fixture.Admin;

    private static RdevClient ClientOf(ApiFactory replica, string key) =>
        new(ApiHost.WithKey(replica.CreateClient(), null), key) { ReconnectDelay = TimeSpan.FromMilliseconds(50) };

    [Fact]
    public async Task ListsTheProjectsThroughTheGeneratedClient()
    {
        var page = await admin.V1.Projects.GetAsync();

        var project = Assert.Single(page!.Items!, p => p.Name == Project);
        Assert.Equal("running", project.Status);
        Assert.Contains("git", project.AllowedCommands!);
    }

    [Fact]
    public async Task GitCommandIsReadThroughTheStreamReaderToItsFinalStatus()
    {
        var command = await admin.V1.Projects[Project].Git.PostAsync(new GitRequest { Args = ["log", "--format=%s"] });

        var events = await ReadAllAsync(admin.StreamCommandAsync(command!.Id!.Value));

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal("first commit from the client test\n", string.Concat(events.Select(e => e.Output?.Data)));
        var last = events[^1].Status;
        Assert.Equal(new CommandStatus("succeeded", 0), last);
        Assert.True(events[^1].IsFinalStatus);
    }

    [Fact]
    public async Task StreamReaderResumesAcrossAReplicaGoingAwayWithEveryLineExactlyOnce()
    {
        const int lines = 2000;
        // The second half waits for a gate the test opens only after the cut, so the stream cannot have ended before it.
        var gate = Path.Combine(fixture.Workspace, $"gate-{Guid.NewGuid():N}");
        var command = await admin.V1.Projects[Project].Shell.PostAsync(new ShellRequest
        {
            Command = $"i=1; while [ $i -le {lines} ]; do echo \"line $i\"; " +
                $"if [ $i -eq {lines / 2} ]; then while [ ! -e {Path.GetFileName(gate)} ]; do sleep 0.05; done; fi; i=$((i+1)); done",
        });

        // The reader reaches the API through a proxy, like clients behind a load balancer during a rollout; the runner
        // replica keeps running the command meanwhile.
        var proxy = new CuttingProxy(fixture.Host.StartReplica().Factory.Server.CreateHandler());
        var reconnects = new List<StreamReconnect>();
        var client = new RdevClient(new HttpClient(proxy) { BaseAddress = new Uri("http://rdev.test/") }, CommandsHost.AdminKey)
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            OnReconnect = reconnects.Add,
        };

        var events = new List<CommandStreamEvent>();
        await foreach (var e in client.StreamCommandAsync(command!.Id!.Value).WithCancellation(Timeout()))
        {
            events.Add(e);
            if (e.Output is not null && proxy.Cuts == 0)
            {
                // Mid-stream: the connection drops, and the traffic moves to a fresh replica; then the command goes on.
                proxy.Target = fixture.Host.StartReplica().Factory.Server.CreateHandler();
                proxy.Cut();
                await File.WriteAllTextAsync(gate, "");
            }
        }

        Assert.Contains(reconnects, r => r.Reason is IOException && r.LastEventId >= 1);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        var text = string.Concat(events.Select(e => e.Output?.Data));
        Assert.Equal(Enumerable.Range(1, lines).Select(i => $"line {i}"), text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("succeeded", events[^1].Status?.Status);
    }

    [Fact]
    public async Task KeyWithoutTheScopeGetsAForbiddenProblemFromRequestsAndStreams()
    {
        var created = await admin.V1.Keys.PostAsync(new CreateKeyRequest { Name = "reader only", Scopes = ["projects:read"] });
        var reader = ClientOf(fixture.Runner, created!.Key!);
        var command = await admin.V1.Projects[Project].Git.PostAsync(new GitRequest { Args = ["status", "--short"] });

        var run = await Assert.ThrowsAsync<RdevProblemException>(() => reader.V1.Projects[Project].Git.PostAsync(new GitRequest { Args = ["status"] }));
        var stream = await Assert.ThrowsAsync<RdevProblemException>(() => ReadAllAsync(reader.StreamCommandAsync(command!.Id!.Value)));

        foreach (var problem in new[] { run, stream })
        {
            Assert.Equal((403, "FORBIDDEN"), (problem.Status, problem.Code));
            Assert.StartsWith("403 FORBIDDEN: ", problem.Message);
            Assert.Contains("commands:", problem.Message);
            Assert.DoesNotContain('\n', problem.ToString());
            Assert.NotNull(problem.TraceId);
        }
    }

    [Fact]
    public async Task UnknownCommandIsANotFoundProblemNotARetry()
    {
        var problem = await Assert.ThrowsAsync<RdevProblemException>(() => ReadAllAsync(admin.StreamCommandAsync(Guid.CreateVersion7())));
        Assert.Equal((404, "NOT_FOUND"), (problem.Status, problem.Code));

        var invalid = await Assert.ThrowsAsync<RdevProblemException>(() => admin.V1.Projects[Project].Git.PostAsync(new GitRequest { Args = [] }));
        Assert.Equal((400, "VALIDATION_FAILED"), (invalid.Status, invalid.Code));
        Assert.NotEmpty(invalid.Errors);
    }

    [Fact]
    public async Task EventsFeedReaderSeesACommandsLifecycle()
    {
        var id = (await admin.V1.Projects[Project].Git.PostAsync(new GitRequest { Args = ["status", "--short"] }))!.Id;

        // From the start of the feed (it keeps days), so the command's creation is there however fast it ran.
        var mine = new List<CommandChange>();
        await foreach (var e in admin.StreamEventsAsync(Project, cancellationToken: Timeout()))
        {
            if (e.Command is { } change && change.Id == id)
            {
                mine.Add(change);
                if (change.IsFinal)
                {
                    break;
                }
            }
        }

        Assert.Equal(["queued", "running", "succeeded"], mine.Select(c => c.Status));
        Assert.All(mine, c => Assert.Equal((Project, "git"), (c.Project, c.Kind)));
        Assert.Equal(0, mine[^1].ExitCode);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private static async Task<List<CommandStreamEvent>> ReadAllAsync(IAsyncEnumerable<CommandStreamEvent> stream)
    {
        var events = new List<CommandStreamEvent>();
        await foreach (var e in stream.WithCancellation(Timeout()))
        {
            events.Add(e);
        }

        return events;
    }
}
