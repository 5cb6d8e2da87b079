using Microsoft.Extensions.DependencyInjection;
using Rdev.Api.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

[Trait("Category", "Slow")]
public sealed class CommandResilienceTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task ABriefDatabaseOutageDelaysOutputButLosesNoneOfIt()
    {
        var api = host.StartApi();
        await host.AddProjectAsync("outage");
        await CommandsHost.WaitForProjectAsync(api, "outage");

        var command = await CommandsHost.StartAsync(api, "outage", "shell",
            new { command = "i=1; while [ $i -le 50 ]; do echo \"line $i\"; sleep 0.1; i=$((i+1)); done" });
        var id = command.GetProperty("id").GetString()!;
        await Eventually.TrueAsync(async () => (await api.GetStringAsync($"/api/v1/commands/{id}/output")).Contains("line 5"),
            "the command's first lines stored");

        var name = host.Database.Name;
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false");
        await host.Database.ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
        // The outage itself: two seconds without a database while the command keeps printing. The wait is the scenario.
        await Task.Delay(2000);
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true");

        var record = await CommandsHost.WaitForFinalAsync(api, id, TimeSpan.FromSeconds(60));
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        var events = await CommandsHost.ReadStreamAsync(api, id);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));
        var lines = CommandsHost.OutputLines(events);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"line {i}"), lines);
    }

    [Fact]
    public async Task CommandsEndingDuringAnOutageLongerThanTheGiveUpWindowGetTheirTrueStatus()
    {
        var api = host.StartApi(new Dictionary<string, string?> { ["Rdev:Commands:WriteGiveUpSeconds"] = "2" });
        await host.AddProjectAsync("long-outage", maxConcurrent: 3);
        await CommandsHost.WaitForProjectAsync(api, "long-outage");
        var marker = Random.Shared.Next(100_000, 999_999).ToString();
        var finishing = $"echo start; sleep 3.{marker}; echo done";
        var looping = $"while true; do echo tick {marker}; sleep 0.2; done";
        var done = await StartAsync(api, new { command = finishing });
        var slow = await StartAsync(api, new { command = $"sleep {marker}", timeout_seconds = 3 });
        var loud = await StartAsync(api, new { command = looping });
        await Eventually.TrueAsync(async () => (await api.GetStringAsync($"/api/v1/commands/{loud}/output")).Contains("tick"),
            "the looping command's output stored");

        await StopDatabaseAsync();
        try
        {
            // During the outage: one command ends by itself, one times out, and the one whose output cannot be stored
            // for longer than the give-up window is stopped. None of them can record anything yet.
            await Eventually.TrueAsync(() => Task.FromResult(
                    Processes.Matching($"sh -c {finishing}") + Processes.Matching($"sleep {marker}") + Processes.Matching($"sh -c {looping}") == 0),
                "all three processes ended during the outage", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{host.Database.Name}\" ALLOW_CONNECTIONS true");
        }

        var finished = await CommandsHost.WaitForFinalAsync(api, done, TimeSpan.FromSeconds(60));
        Assert.Equal("succeeded", finished.GetProperty("status").GetString());
        Assert.Equal("start\ndone\n", await api.GetStringAsync($"/api/v1/commands/{done}/output"));
        Assert.Equal("timed_out", (await CommandsHost.WaitForFinalAsync(api, slow, TimeSpan.FromSeconds(60))).GetProperty("status").GetString());
        var stopped = await CommandsHost.WaitForFinalAsync(api, loud, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", stopped.GetProperty("status").GetString());
        Assert.Contains("database", stopped.GetProperty("error").GetString());
        // The three slots are free again.
        for (var i = 0; i < 3; i++)
        {
            await StartAsync(api, new { command = "true" });
        }
    }

    [Fact]
    public async Task AnUnfinishedCommandThisReplicaNoLongerRunsIsSweptAsLost()
    {
        var (replica, api) = host.StartReplica(new Dictionary<string, string?>
        {
            ["Rdev:Commands:SweepSeconds"] = "0.5",
            ["Rdev:Commands:HeartbeatSeconds"] = "0.5",
        });
        await host.AddProjectAsync("orphan", maxConcurrent: 1);
        await CommandsHost.WaitForProjectAsync(api, "orphan");
        var runnerId = replica.Services.GetRequiredService<CommandSupervisor>().RunnerId;

        // As a supervisor that died inside a live replica would leave it: running, owned by this replica, its heartbeat fresh.
        var id = Guid.CreateVersion7();
        await host.Database.ScalarAsync<int>($$"""
            INSERT INTO commands (id, project, kind, args, status, key_id, created_at, started_at, timeout_seconds, last_seq, runner_id)
            VALUES ('{{id}}', 'orphan', 'shell', '{"command":"sleep 1000"}', 'running', 'testadmin', now() - interval '1 minute',
                    now() - interval '1 minute', 1800, 2, '{{runnerId}}')
            """);
        await host.Database.ScalarAsync<int>($$"""
            INSERT INTO command_events (command_id, seq, type, data)
            VALUES ('{{id}}', 1, 'status', '{"status":"queued"}'), ('{{id}}', 2, 'status', '{"status":"running"}')
            """);

        var record = await CommandsHost.WaitForFinalAsync(api, id.ToString());
        Assert.Equal("lost", record.GetProperty("status").GetString());
        var events = await CommandsHost.ReadStreamAsync(api, id.ToString());
        Assert.Equal("{\"status\":\"lost\"}", events[^1].Data);
        // Its slot, the project's only one, is free.
        await StartAsync(api, new { command = "true" }, "orphan");
    }

    private async Task StopDatabaseAsync()
    {
        var name = host.Database.Name;
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false");
        await host.Database.ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    }

    private static async Task<string> StartAsync(HttpClient api, object body, string project = "long-outage") =>
        (await CommandsHost.StartAsync(api, project, "shell", body)).GetProperty("id").GetString()!;
}
