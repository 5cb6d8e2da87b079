using System.Collections.Concurrent;
using System.Net.ServerSentEvents;
using Npgsql;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// SPEC section 6, "Fan-out at scale": many streams of one command cost one reader per replica, not one each, and a
/// storm of them waits for the replica's bounded pool instead of exhausting PostgreSQL's connections.
/// </summary>
[Trait("Category", "Slow")]
public sealed class StreamHubTests : IAsyncLifetime
{
    private const int Steps = 5;
    private readonly CommandsHost host = new();
    private readonly string role = $"rdev_storm_{Guid.NewGuid():N}"[..24];

    public Task InitializeAsync() => host.InitializeAsync();

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await host.Database.ExecuteOnServerAsync($"DROP ROLE IF EXISTS {role}");
    }

    [Fact]
    public async Task TwentyStreamsOfOneCommandOnEachReplicaShareOneReaderThere()
    {
        const int perReplica = 20;
        var (runner, runnerClient) = host.StartReplica();
        var (other, otherClient) = host.StartReplica();
        var folder = await host.AddProjectAsync("fanout");
        await CommandsHost.WaitForProjectAsync(runnerClient, "fanout");
        await CommandsHost.WaitForProjectAsync(otherClient, "fanout");
        var command = await CommandsHost.StartAsync(runnerClient, "fanout", "shell", new
        {
            command = $"for i in $(seq 1 {Steps}); do while [ ! -f step$i ]; do sleep 0.02; done; echo \"step $i\"; done",
        });
        var id = command.GetProperty("id").GetString()!;
        using var runnerMeters = new ReplicaMeters(runner);
        using var otherMeters = new ReplicaMeters(other);

        var received = Enumerable.Range(0, 2 * perReplica).Select(_ => new ConcurrentQueue<SseItem<string>>()).ToArray();
        var readers = received.Select((queue, i) => ReadIntoAsync(i < perReplica ? runnerClient : otherClient, id, queue)).ToArray();
        await Eventually.TrueAsync(() => received.All(q => q.Any(e => e.EventType == "status" && e.Data.Contains("running"))),
            "every stream is live at the command's head");
        var (runnerBefore, otherBefore) = (runnerMeters.StoreReads, otherMeters.StoreReads);

        for (var step = 1; step <= Steps; step++)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, $"step{step}"), "");
            var line = $"step {step}";
            await Eventually.TrueAsync(() => received.All(q => q.Any(e => e.EventType == "output" && e.Data.Contains(line))),
                $"every stream received {line}");
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
        var first = received[0].ToList();
        Assert.Equal(Enumerable.Range(1, first.Count).Select(i => i.ToString()), first.Select(e => e.EventId));
        Assert.Contains("succeeded", first[^1].Data);
        Assert.All(received, q => Assert.Equal(first.Select(e => (e.EventId, e.EventType, e.Data)), q.Select(e => (e.EventId, e.EventType, e.Data))));

        // One stream per read would be 20 reads per step on each replica; the hub needs a couple per step: the read
        // (none on the runner, whose writer hands the events over) and one that finds nothing more.
        var bound = 3 * (Steps + 1);
        var runnerReads = runnerMeters.StoreReads - runnerBefore;
        var otherReads = otherMeters.StoreReads - otherBefore;
        Assert.True(otherReads is > 0 and <= 3 * (Steps + 1), $"{otherReads} reads on the other replica for {perReplica} streams");
        Assert.True(runnerReads <= bound, $"{runnerReads} reads on the running replica for {perReplica} streams");
    }

    [Fact]
    public async Task AReconnectStormOnTwoReplicasWaitsForTheirBoundedPoolsInsteadOfFailing()
    {
        const int clientsPerReplica = 100;
        // PostgreSQL lets this role hold 10 connections at once, as max_connections limits a whole server: two replicas
        // with pools of 4 fit, while one connection per stream would not.
        await host.Database.ExecuteOnServerAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'storm' CONNECTION LIMIT 10;
            GRANT CONNECT ON DATABASE "{host.Database.Name}" TO {role};
            """);
        await using (var connection = new NpgsqlConnection(host.ConnectionString))
        {
            await connection.OpenAsync();
            await using var grant = new NpgsqlCommand(
                $"GRANT USAGE ON SCHEMA public TO {role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};",
                connection);
            await grant.ExecuteNonQueryAsync();
        }

        var limited = new Dictionary<string, string?>
        {
            ["ConnectionStrings:rdevdb"] = new NpgsqlConnectionStringBuilder(host.ConnectionString) { Username = role, Password = "storm" }.ConnectionString,
            ["Rdev:Database:MaxPoolSize"] = "4",
        };
        var (_, a) = host.StartReplica(limited);
        var (_, b) = host.StartReplica(limited);
        await host.AddProjectAsync("storm");
        await CommandsHost.WaitForProjectAsync(a, "storm");
        await CommandsHost.WaitForProjectAsync(b, "storm");
        var command = await CommandsHost.StartAsync(a, "storm", "shell", new { command = "for i in $(seq 1 300); do echo \"line $i\"; done" });
        var id = command.GetProperty("id").GetString()!;
        await CommandsHost.WaitForFinalAsync(a, id);

        var streams = await Task.WhenAll(Enumerable.Range(0, 2 * clientsPerReplica)
            .Select(i => CommandsHost.ReadStreamAsync(i % 2 == 0 ? a : b, id)));

        var expected = Enumerable.Range(1, 300).Select(i => $"line {i}").ToArray();
        Assert.All(streams, events =>
        {
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));
            Assert.Contains("succeeded", events[^1].Data);
            Assert.Equal(expected, CommandsHost.OutputLines(events));
        });
    }

    private static Task ReadIntoAsync(HttpClient client, string id, ConcurrentQueue<SseItem<string>> into) => Task.Run(async () =>
    {
        using var response = await client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            into.Enqueue(item);
        }
    });
}
