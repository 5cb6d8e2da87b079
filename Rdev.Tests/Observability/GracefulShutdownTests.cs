using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Observability;

/// <summary>A real API process receives SIGTERM while a client streams a command it runs; another replica continues the command.</summary>
[Trait("Category", "Slow")]
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task SigtermTellsStreamsToReconnectKeepsEveryStoredEventAndAnotherReplicaFinishesTheStream()
    {
        var other = host.StartApi(); // also migrates the database
        await host.AddProjectAsync("rollout");
        await CommandsHost.WaitForProjectAsync(other, "rollout");

        using var api = ApiProcess.Start(host.ConnectionString, host.Settings);
        var client = new HttpClient { BaseAddress = api.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await api.WaitUntilServingAsync(client, "/api/v1/projects/rollout");

        var command = await CommandsHost.StartAsync(client, "rollout", "shell",
            new { command = "i=1; while [ $i -le 600 ]; do echo \"line $i\"; sleep 0.01; i=$((i+1)); done" });
        var id = command.GetProperty("id").GetString()!;

        using var response = await client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var parser = SseParser.Create(body);
        var events = new List<SseItem<string>>();
        var signalled = false;
        await foreach (var item in parser.EnumerateAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
        {
            events.Add(item);
            if (!signalled && events.Count(e => e.EventType == "output") >= 3)
            {
                signalled = true;
                Assert.Equal(0, api.Signal(15));
            }
        }

        Assert.True(signalled);
        Assert.Equal(TimeSpan.FromMilliseconds(1000), parser.ReconnectionInterval);
        Assert.True(api.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the API process exits after SIGTERM");
        Assert.Equal(0, api.Process.ExitCode);

        // The client comes back to another replica with its last id and gets the rest: the other replica took the command
        // over, so it runs to its end (durable runs), every line exactly once.
        var rest = await CommandsHost.ReadStreamAsync(other, id, long.Parse(events[^1].EventId!));
        var all = events.Concat(rest).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => i.ToString()), all.Select(e => e.EventId));
        Assert.Equal("succeeded", JsonDocument.Parse(all[^1].Data).RootElement.GetProperty("status").GetString());
        var lines = CommandsHost.OutputLines(all);
        Assert.Equal(Enumerable.Range(1, 600).Select(i => $"line {i}"), lines);
        var stored = await host.Database.ScalarAsync<long>($"SELECT output_bytes FROM commands WHERE id = '{id}'");
        Assert.Equal(Encoding.UTF8.GetByteCount(string.Concat(lines.Select(l => l + "\n"))), stored);
    }
}
