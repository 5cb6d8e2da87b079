using System.Net;
using System.Net.Http.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

[Trait("Category", "Slow")]
public sealed class CommandLimitTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task SixthCommandIsRejectedWhileFiveRunAcrossTwoReplicas()
    {
        var first = host.StartApi();
        var second = host.StartApi();
        await host.AddProjectAsync("limited", maxConcurrent: 5);
        await CommandsHost.WaitForProjectAsync(first, "limited");
        await CommandsHost.WaitForProjectAsync(second, "limited");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var api = i % 2 == 0 ? first : second;
            ids.Add((await CommandsHost.StartAsync(api, "limited", "shell", new { command = "sleep 30" })).GetProperty("id").GetString()!);
        }

        var before = await host.Database.ScalarAsync<long>("SELECT count(*) FROM commands");
        foreach (var api in new[] { first, second })
        {
            var sixth = await api.PostAsJsonAsync("/api/v1/projects/limited/shell", new { command = "echo six" });
            await sixth.AssertProblemAsync(HttpStatusCode.TooManyRequests, "COMMAND_LIMIT_REACHED");
        }

        Assert.Equal(before, await host.Database.ScalarAsync<long>("SELECT count(*) FROM commands"));

        // One finishes (cancelled from the replica that did not start it): the next one is accepted.
        Assert.Equal(HttpStatusCode.Accepted, (await second.PostAsync($"/api/v1/commands/{ids[0]}/cancel", null)).StatusCode);
        Assert.Equal("cancelled", (await CommandsHost.WaitForFinalAsync(first, ids[0])).GetProperty("status").GetString());
        await CommandsHost.StartAsync(second, "limited", "shell", new { command = "echo next" });

        foreach (var id in ids.Skip(1))
        {
            await first.PostAsync($"/api/v1/commands/{id}/cancel", null);
        }
    }

    [Fact]
    public async Task CancelStopsTheWholeProcessTree()
    {
        var api = host.StartApi();
        await host.AddProjectAsync("cancel-tree");
        await CommandsHost.WaitForProjectAsync(api, "cancel-tree");
        var id = await Processes.CancelKillsTheTreeAsync(api, "cancel-tree");

        var again = await api.PostAsync($"/api/v1/commands/{id}/cancel", null);
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task CommandOfAReplicaThatDiedIsMarkedLostByTheNextStart()
    {
        // The replica looks for commands of silent runners on each heartbeat: every 200 ms here instead of every 5 s.
        var api = host.StartApi(new Dictionary<string, string?>
        {
            ["Rdev:Commands:RunnerTimeoutSeconds"] = "1",
            ["Rdev:Commands:HeartbeatSeconds"] = "0.2",
        });
        await host.AddProjectAsync("orphans");
        await CommandsHost.WaitForProjectAsync(api, "orphans");
        var id = Guid.CreateVersion7();
        await host.Database.ScalarAsync<object>($$"""
            INSERT INTO commands (id, project, kind, args, status, key_id, timeout_seconds, last_seq, runner_id, started_at)
            VALUES ('{{id}}', 'orphans', 'shell', '{"command":"sleep 1000"}', 'running', 'testadmin', 60, 2, 'crashed-replica', now());
            INSERT INTO command_events (command_id, seq, type, data) VALUES
                ('{{id}}', 1, 'status', '{"status":"queued"}'), ('{{id}}', 2, 'status', '{"status":"running"}');
            SELECT 1;
            """);

        var record = await CommandsHost.WaitForFinalAsync(api, id.ToString());
        Assert.Equal("lost", record.GetProperty("status").GetString());
        var events = await CommandsHost.ReadStreamAsync(api, id.ToString(), lastEventId: 2);
        Assert.Equal("3", Assert.Single(events).EventId);
    }
}
