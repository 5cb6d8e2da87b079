using System.Text.Json;

namespace Rdev.Tests.Commands;

[Trait("Category", "Slow")]
public sealed class StreamReconnectionTests(StreamReconnectionTests.Fixture fixture) : IClassFixture<StreamReconnectionTests.Fixture>
{
    private const int Lines = 10_000;

    /// <summary>One database and two replicas for the class (a test may start more); each test adds a project of its own.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();

        public HttpClient Runner { get; private set; } = null!;

        public HttpClient Other { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            Runner = Host.StartApi();
            Other = Host.StartApi();
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    private readonly CommandsHost host = fixture.Host;

    [Fact]
    public async Task EveryLineArrivesExactlyOnceAcrossOneHundredReconnects()
    {
        var api = fixture.Runner;
        await host.AddProjectAsync("lines");
        await CommandsHost.WaitForProjectAsync(api, "lines");

        var id = await StartNumberedLinesAsync(api, "lines");
        await AssertEveryLineOnceAsync(api, api, id);
    }

    [Fact]
    public async Task StreamFromTheReplicaNotRunningTheCommandSeesEverything()
    {
        var (runner, other) = (fixture.Runner, fixture.Other);
        await host.AddProjectAsync("two-replicas");
        await CommandsHost.WaitForProjectAsync(runner, "two-replicas");
        await CommandsHost.WaitForProjectAsync(other, "two-replicas");

        var id = await StartNumberedLinesAsync(runner, "two-replicas");
        await AssertEveryLineOnceAsync(other, runner, id);
    }

    [Fact]
    public async Task StreamResumesOnAFreshReplicaAfterTheServingOneRestarts()
    {
        var runner = fixture.Runner;
        await host.AddProjectAsync("restart");
        await CommandsHost.WaitForProjectAsync(runner, "restart");
        var id = await StartNumberedLinesAsync(runner, "restart");

        var (serving, servingClient) = host.StartReplica();
        var first = await CommandsHost.ReadStreamAsync(servingClient, id, stopAfter: 5);
        await serving.DisposeAsync();

        var restarted = host.StartApi();
        var rest = await CommandsHost.ReadStreamAsync(restarted, id, long.Parse(first[^1].EventId!));
        var all = first.Concat(rest).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => i.ToString()), all.Select(e => e.EventId));
        var lines = CommandsHost.OutputLines(all);
        Assert.Equal(Enumerable.Range(1, Lines).Select(i => $"line {i}"), lines);
    }

    private static async Task<string> StartNumberedLinesAsync(HttpClient api, string project)
    {
        // Slow enough that the reconnects happen while the command is still writing.
        var command = await CommandsHost.StartAsync(api, project, "shell", new
        {
            command = $"i=1; while [ $i -le {Lines} ]; do echo \"line $i\"; if [ $((i % 500)) -eq 0 ]; then sleep 0.05; fi; i=$((i+1)); done",
        });
        return command.GetProperty("id").GetString()!;
    }

    private static async Task AssertEveryLineOnceAsync(HttpClient streamFrom, HttpClient runner, string id)
    {
        var random = new Random(42);
        var received = new System.Text.StringBuilder();
        var ids = new List<long>();
        long? last = null;
        var finished = false;
        for (var attempt = 0; attempt < 100 && !finished; attempt++)
        {
            var items = await CommandsHost.ReadStreamAsync(streamFrom, id, last, stopAfter: random.Next(1, 40));
            finished = Consume(items);
        }

        // Then stay until the end.
        while (!finished)
        {
            finished = Consume(await CommandsHost.ReadStreamAsync(streamFrom, id, last));
        }

        Assert.True(ids.Zip(ids.Skip(1)).All(pair => pair.Second > pair.First), "ids strictly increase");
        var lines = received.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(1, Lines).Select(i => $"line {i}"), lines);
        Assert.Equal("succeeded", (await CommandsHost.GetCommandAsync(runner, id)).GetProperty("status").GetString());

        bool Consume(List<System.Net.ServerSentEvents.SseItem<string>> items)
        {
            var done = false;
            foreach (var item in items)
            {
                var seq = long.Parse(item.EventId!);
                ids.Add(seq);
                last = seq;
                var data = JsonDocument.Parse(item.Data).RootElement;
                if (item.EventType == "output")
                {
                    received.Append(data.GetProperty("data").GetString());
                }
                else if (item.EventType == "status" && data.GetProperty("status").GetString() is not ("queued" or "running"))
                {
                    done = true;
                }
            }

            return done;
        }
    }
}
