
namespace Rdev.Tests.Commands;

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
        await Task.Delay(1000);

        var name = host.Database.Name;
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false");
        await host.Database.ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
        await Task.Delay(2000);
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true");

        var record = await CommandsHost.WaitForFinalAsync(api, id, TimeSpan.FromSeconds(60));
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        var events = await CommandsHost.ReadStreamAsync(api, id);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));
        var lines = CommandsHost.OutputLines(events);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"line {i}"), lines);
    }
}
