using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// SPEC section 6, "Fan-out at scale": clients that read slowly or not at all never make a replica buffer without
/// bound, and a database error mid-stream sends <c>retry:</c> instead of ending the stream as if it were complete.
/// Clients are real sockets with small receive buffers (<see cref="PausableStream"/>), so the server feels them stop.
/// </summary>
// Each test stores and streams a 16 MB command: Slow, like the other tests of real processes at volume.
[Trait("Category", "Slow")]
public sealed class SlowClientTests : IAsyncLifetime
{
    private const int Bytes = 16_000_000;
    private const int PageBytes = 64 * 1024;
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task SlowClientsOfALargeCommandReadPagesAgainInsteadOfGrowingTheReplicasMemory()
    {
        const double cacheMegabytes = 0.5;
        // Stalled for as long as the fast client takes, which on a loaded machine can pass the default 60 s.
        var (replica, api, id) = await StartLargeCommandAsync("slow", new()
        {
            ["Rdev:Streaming:CacheMegabytes"] = "0.5",
            ["Rdev:Streaming:StalledClientSeconds"] = "600",
        });
        using var meters = new ReplicaMeters(replica);
        var slow = new List<PausableStream>();
        for (var i = 0; i < 6; i++)
        {
            var stream = await PausableStream.OpenAsync(replica, CommandsHost.AdminKey, id);
            await stream.ReadAsync(2);
            slow.Add(stream);
        }

        // While six clients stall part-way, a seventh reads all 16 MB.
        var fast = await CommandsHost.ReadStreamAsync(api, id);
        Assert.Equal(Bytes, CommandsHost.OutputOf(fast).Length);
        Assert.InRange(meters.CacheBytes, 0, (long)(cacheMegabytes * 1024 * 1024));
        var readsBefore = meters.StoreReads;
        var bytesBefore = meters.StoreReadBytes;
        // A page holds at least one event, and the runtime may store output in events larger than a page.
        var largestEvent = fast.Max(e => System.Text.Encoding.UTF8.GetByteCount(e.Data));

        foreach (var stream in slow)
        {
            await stream.ReadToEndAsync();
            AssertWhole(stream.Received);
            await stream.DisposeAsync();
        }

        Assert.InRange(meters.CacheBytes, 0, (long)(cacheMegabytes * 1024 * 1024));
        // They caught up by reading the pages that had left the cache again, each within the page byte bound.
        var reread = meters.StoreReadBytes - bytesBefore;
        Assert.True(reread >= Bytes - (long)(cacheMegabytes * 1024 * 1024), $"{reread} bytes read again to catch up");
        var reads = meters.StoreReads - readsBefore;
        Assert.InRange(reread / reads, 1, Math.Max(2 * PageBytes, largestEvent + 1024));
    }

    [Fact]
    public async Task AClientThatStopsReadingIsDisconnectedAndResumesWithoutLossOrRepeat()
    {
        var (replica, _, id) = await StartLargeCommandAsync("stalled", new() { ["Rdev:Streaming:StalledClientSeconds"] = "1" });
        using var meters = new ReplicaMeters(replica);
        await using var stalled = await PausableStream.OpenAsync(replica, CommandsHost.AdminKey, id);
        await stalled.ReadAsync(2);

        await Eventually.TrueAsync(() => meters.Closed("stalled") == 1, "the replica closed the stream of the client that stopped reading");
        await stalled.ReadToEndAsync();
        Assert.True(stalled.Cut || stalled.Ended);
        Assert.DoesNotContain(stalled.Received, e => e.EventType == "status" && e.Data.Contains("succeeded"));

        await using var resumed = await PausableStream.OpenAsync(replica, CommandsHost.AdminKey, id, stalled.LastId);
        await resumed.ReadToEndAsync();
        AssertWhole([.. stalled.Received, .. resumed.Received]);
    }

    [Fact]
    public async Task ADatabaseErrorMidStreamSendsRetryAndClosesInsteadOfEndingTheStream()
    {
        var (replica, _, id) = await StartLargeCommandAsync("outage", new()
        {
            ["Rdev:Streaming:CacheMegabytes"] = "0.25",
            ["Rdev:Streaming:ReconnectMilliseconds"] = "1234",
        });
        using var meters = new ReplicaMeters(replica);
        await using var stream = await PausableStream.OpenAsync(replica, CommandsHost.AdminKey, id);
        await stream.ReadAsync(2);

        // The rest of the 16 MB is not read yet (the client holds the replica back); now the database goes away.
        var name = host.Database.Name;
        await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false");
        try
        {
            await host.Database.ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
            await stream.ReadToEndAsync();
        }
        finally
        {
            await host.Database.ExecuteOnServerAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true");
        }

        Assert.True(stream.Ended, "the stream ends cleanly, not cut off");
        Assert.Equal(TimeSpan.FromMilliseconds(1234), stream.Parser.ReconnectionInterval);
        Assert.DoesNotContain(stream.Received, e => e.EventType == "status" && e.Data.Contains("succeeded"));
        Assert.Equal(1, meters.Closed("database_error"));

        // The client comes back with its Last-Event-ID, as an EventSource would after the retry interval.
        await using var resumed = await Eventually.ValueAsync(async () =>
        {
            try
            {
                return (true, await PausableStream.OpenAsync(replica, CommandsHost.AdminKey, id, stream.LastId));
            }
            catch (Xunit.Sdk.XunitException)
            {
                return (false, (PausableStream?)null);
            }
        }, "the database is back for a reconnect") ?? throw new InvalidOperationException();
        await resumed.ReadToEndAsync();
        AssertWhole([.. stream.Received, .. resumed.Received]);
    }

    /// <summary>A replica on real sockets and a finished command that printed 16 MB of 'x'.</summary>
    private async Task<(ApiFactory Replica, HttpClient Api, string Id)> StartLargeCommandAsync(string project, Dictionary<string, string?> settings)
    {
        settings["Rdev:Commands:MaxOutputBytes"] = "50000000";
        settings["Rdev:Streaming:PageBytes"] = PageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (replica, api) = host.StartReplica(settings, realHttp: true);
        await host.AddProjectAsync(project);
        await CommandsHost.WaitForProjectAsync(api, project);
        var command = await CommandsHost.StartAsync(api, project, "shell", new { command = $"head -c {Bytes} /dev/zero | tr '\\0' x" });
        var id = command.GetProperty("id").GetString()!;
        await CommandsHost.WaitForFinalAsync(api, id);
        return (replica, api, id);
    }

    /// <summary>Every event once, in order, ending with the final status, and all 16 MB of output.</summary>
    private static void AssertWhole(List<System.Net.ServerSentEvents.SseItem<string>> events)
    {
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));
        Assert.Equal("succeeded", JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("status").GetString());
        var output = CommandsHost.OutputOf(events);
        Assert.Equal(Bytes, output.Length);
        Assert.DoesNotContain(output, c => c != 'x');
    }
}
