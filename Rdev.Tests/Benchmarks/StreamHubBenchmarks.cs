using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Npgsql;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rdev.Tests.Benchmarks;

/// <summary>
/// Load harnesses for the stream hub (SPEC section 6, "Fan-out at scale"; docs/benchmarks.md). Each API runs as its own
/// process (the built Rdev.Api.dll), so its working set is measured alone. They print figures and assert only that the
/// work completed.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed partial class StreamHubBenchmarks(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly CommandsHost host = new();
    private readonly string role = $"rdev_bench_{Guid.NewGuid():N}"[..24];

    public Task InitializeAsync() => host.InitializeAsync();

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await host.Database.ExecuteOnServerAsync($"DROP ROLE IF EXISTS {role}");
    }

    [Fact]
    public async Task ReconnectStormOf1000ClientsOnTwoReplicas()
    {
        const int clients = 1000, lines = 200;
        // PostgreSQL's default max_connections is 100, 3 of them reserved for superusers: the replicas' role gets the 97
        // others, so "too many clients" would happen exactly where it would on a default server used by rdev.
        await host.Database.ExecuteOnServerAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'bench' CONNECTION LIMIT 97;
            GRANT CONNECT ON DATABASE "{host.Database.Name}" TO {role};
            """);
        await ExecuteAsync($"GRANT USAGE ON SCHEMA public TO {role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};");
        var connectionString = new NpgsqlConnectionStringBuilder(host.ConnectionString) { Username = role, Password = "bench" }.ConnectionString;
        await host.AddProjectAsync("storm");
        using var a = await StartApiAsync("storm", connectionString: connectionString);
        using var b = await StartApiAsync("storm", connectionString: connectionString);

        // Half the lines are stored before the storm, the rest arrive while it runs.
        var command = await CommandsHost.StartAsync(a.Client, "storm", "shell", new
        {
            command = $"for i in $(seq 1 {lines}); do echo \"line $i\"; if [ $i -gt {lines / 2} ]; then sleep 0.02; fi; done",
        });
        var id = command.GetProperty("id").GetString()!;
        await Eventually.TrueAsync(async () => (await a.Client.GetStringAsync($"/api/v1/commands/{id}/output")).Contains($"line {lines / 2}\n"),
            "half the output is stored");

        var peakConnections = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(host.ConnectionString);
            await connection.OpenAsync();
            while (!sampling.IsCancellationRequested)
            {
                await using var count = new NpgsqlCommand($"SELECT count(*) FROM pg_stat_activity WHERE usename = '{role}'", connection);
                peakConnections = Math.Max(peakConnections, (long)(await count.ExecuteScalarAsync())!);
                await Task.Delay(10);
            }
        });

        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            try
            {
                var events = await ReadAllAsync(i % 2 == 0 ? a.Client : b.Client, id);
                var ids = events.Select(e => e.EventId).ToList();
                var ok = ids.SequenceEqual(Enumerable.Range(1, ids.Count).Select(n => n.ToString()))
                    && CommandsHost.OutputLines(events).SequenceEqual(Enumerable.Range(1, lines).Select(n => $"line {n}"))
                    && events[^1].Data.Contains("succeeded");
                return (Ok: ok, Failure: (string?)null);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                return (Ok: false, Failure: (string?)ex.GetType().Name);
            }
        })));
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;

        var complete = results.Count(r => r.Ok);
        var tooMany = CountOf(a.Process.Output, "too many") + CountOf(b.Process.Output, "too many");
        output.WriteLine($"reconnect storm: {clients} clients from event 0 over 2 replicas (pool {a.PoolSize} each, role limit 97): " +
            $"{complete}/{clients} received every event exactly once in {elapsed.TotalSeconds:F1} s; " +
            $"peak PostgreSQL connections {peakConnections}; 'too many' in logs: {tooMany}; " +
            $"failures: {string.Join(", ", results.Where(r => r.Failure is not null).GroupBy(r => r.Failure).Select(g => $"{g.Key} x{g.Count()}"))}");
        output.WriteLine($"  API working set: replica a {a.PeakWorkingSetMiB} MiB, replica b {b.PeakWorkingSetMiB} MiB");
        Assert.Equal(clients, complete);
        Assert.Equal(0, tooMany);
    }

    [Fact]
    public async Task FanOutOf20MegabytesToOneSubscriberThenFifty()
    {
        const long bytes = 20_000_000;
        await host.AddProjectAsync("fanout");
        using var api = await StartApiAsync("fanout", new() { ["Rdev:Commands:MaxOutputBytes"] = "50000000" });

        foreach (var subscribers in new[] { 1, 50, 1, 50 })
        {
            api.ResetPeak();
            var clock = Stopwatch.StartNew();
            var command = await CommandsHost.StartAsync(api.Client, "fanout", "shell", new { command = $"head -c {bytes} /dev/zero | tr '\\0' x" });
            var id = command.GetProperty("id").GetString()!;
            var received = await Task.WhenAll(Enumerable.Range(0, subscribers).Select(_ => Task.Run(() => CountOutputBytesAsync(api.Client, id))));
            var elapsed = clock.Elapsed;
            Assert.All(received, count => Assert.Equal(bytes, count));
            output.WriteLine($"20 MB to {subscribers,2} subscriber(s): {elapsed.TotalSeconds:F2} s to the last final event, " +
                $"{bytes / 1e6 / elapsed.TotalSeconds:F1} MB/s per subscriber, {subscribers * bytes / 1e6 / elapsed.TotalSeconds:F0} MB/s in all; " +
                $"API peak working set {api.PeakWorkingSetMiB} MiB, reads {await StoreReadsAsync(api.Client)}");
        }
    }

    /// <param name="podLimit">
    /// Run as in the production overlay's pod (limits: 1 CPU, 512Mi), where .NET caps its GC heap at 75% of the memory
    /// limit and, seeing one processor, uses the workstation GC; emulated with DOTNET_GCHeapHardLimit and
    /// DOTNET_PROCESSOR_COUNT=1, since this process has no cgroup limits of its own.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TenThousandIdleStreamsOnOneReplica(bool podLimit)
    {
        const int streams = 10_000;
        await host.AddProjectAsync("idle");
        // Idle means what it means in production: a heartbeat every 15 s (the default), not the test hosts' 1 s, which
        // would write to every stream every second and measure 10,000 busy streams.
        var settings = new Dictionary<string, string?> { ["Rdev:Streaming:HeartbeatSeconds"] = "15" };
        if (podLimit)
        {
            settings["DOTNET_GCHeapHardLimit"] = "0x18000000";
            settings["DOTNET_PROCESSOR_COUNT"] = "1";
        }

        using var api = await StartApiAsync("idle", settings);
        var command = await CommandsHost.StartAsync(api.Client, "idle", "shell", new { command = "echo started; sleep 600" });
        var id = command.GetProperty("id").GetString()!;
        var before = api.WorkingSetMiB;

        using var opened = new CountdownEvent(streams);
        using var stop = new CancellationTokenSource();
        // Opened 200 at a time: what is measured is 10,000 open streams, not a 10,000-connection SYN flood.
        using var opening = new SemaphoreSlim(200);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        var readers = Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
        {
            await opening.WaitAsync();
            var signalled = false;
            try
            {
                using var response = await api.Client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead, stop.Token);
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(stop.Token);
                await foreach (var item in SseParser.Create(body).EnumerateAsync(stop.Token))
                {
                    if (!signalled && item.EventType == "output")
                    {
                        signalled = true;
                        opening.Release();
                        opened.Signal();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                failures.Add(ex.Message);
                if (!signalled)
                {
                    opening.Release();
                }
            }
        })).ToList();
        var allOpened = await Task.Run(() => opened.Wait(TimeSpan.FromMinutes(5)));
        Assert.True(allOpened, $"{streams - opened.CurrentCount} of {streams} streams opened; failures: " +
            string.Join("; ", failures.GroupBy(f => f).Select(g => $"{g.Key} x{g.Count()}").Take(5)));
        var openTime = clock.Elapsed;
        // Idle for two heartbeat periods.
        var idleUntil = Stopwatch.StartNew();
        var peakIdle = 0L;
        while (idleUntil.Elapsed < TimeSpan.FromSeconds(35))
        {
            peakIdle = Math.Max(peakIdle, api.WorkingSetMiB);
            await Task.Delay(200);
        }

        output.WriteLine($"{streams} idle SSE streams on one replica{(podLimit ? " (GC heap limit of a 512Mi pod)" : "")}: opened in {openTime.TotalSeconds:F1} s; working set " +
            $"{before} MiB before, {peakIdle} MiB peak while idle for 35 s (two heartbeats), overall peak {api.PeakWorkingSetMiB} MiB");
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        await api.Client.PostAsync($"/api/v1/commands/{id}/cancel", null);
    }

    [Fact]
    public async Task AFiveMegabyteLineToThirtyClientsThatStopReading()
    {
        // One 5 MB line of control characters from a claude command is one event of about 30 MB once JSON-escaped.
        var script = Path.Combine(host.Root.FullName, "big-line-claude");
        await File.WriteAllTextAsync(script, "#!/bin/sh\nhead -c 5000000 /dev/zero | tr '\\0' '\\001'\necho\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await host.AddProjectAsync("bigline");
        using var api = await StartApiAsync("bigline", new() { ["Rdev:Commands:ClaudeCommand"] = script });
        var before = api.WorkingSetMiB;
        var command = await CommandsHost.StartAsync(api.Client, "bigline", "claude", new { prompt = "print a big line" });
        var id = command.GetProperty("id").GetString()!;

        var stalled = new List<(HttpResponseMessage Response, Stream Body)>();
        for (var i = 0; i < 30; i++)
        {
            var response = await api.Client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
            var body = await response.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[1024]); // the first bytes, then nothing more
            stalled.Add((response, body));
        }

        await CommandsHost.WaitForFinalAsync(api.Client, id);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(200);
            _ = api.WorkingSetMiB;
        }

        // One client that reads the whole stream gets the whole line.
        var events = await CommandsHost.ReadStreamAsync(api.Client, id);
        var length = CommandsHost.OutputOf(events).Length;
        output.WriteLine($"5 MB single line (about {events.Max(e => e.Data.Length) / 1_000_000} MB as one event) to 30 clients that stop reading: " +
            $"API working set {before} MiB before, peak {api.PeakWorkingSetMiB} MiB over 20 s stalled; a reader then got {length + 0} characters");
        Assert.Equal(5_000_001, length);
        foreach (var (response, body) in stalled)
        {
            await body.DisposeAsync();
            response.Dispose();
        }
    }

    private async Task<Api> StartApiAsync(string project, Dictionary<string, string?>? extra = null, string? connectionString = null)
    {
        if (host.Replicas.Count == 0)
        {
            host.StartApi(); // migrates the database before measured processes start
        }

        var settings = ApiHost.Merge(host.Settings, extra);
        var process = ApiProcess.Start(connectionString ?? host.ConnectionString, settings);
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, ConnectTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = process.BaseAddress,
            Timeout = TimeSpan.FromMinutes(10),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await process.WaitUntilServingAsync(client, $"/api/v1/projects/{project}");
        return new Api(process, client);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<SseItem<string>>> ReadAllAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            events.Add(item);
        }

        return events;
    }

    /// <summary>Output bytes of a stream of 'x' output, counted from the frames' sizes without building strings.</summary>
    private static async Task<long> CountOutputBytesAsync(HttpClient client, string id)
    {
        // {"stream":"stdout","data":"..."}: the data is what is between the 27 leading and 2 trailing bytes.
        const int envelope = 29;
        using var response = await client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        long count = 0;
        await foreach (var item in SseParser.Create(body, (type, data) => type == "output" ? data.Length - envelope : 0).EnumerateAsync())
        {
            count += item.Data;
        }

        return count;
    }

    private static async Task<string> StoreReadsAsync(HttpClient client)
    {
        var metrics = await client.GetStringAsync("/metrics");
        return metrics.Split('\n').FirstOrDefault(l => l.StartsWith("rdev_sse_store_reads_total", StringComparison.Ordinal))?.Split(' ')[^1] ?? "?";
    }

    private static int CountOf(string text, string what) =>
        (text.Length - text.Replace(what, "", StringComparison.OrdinalIgnoreCase).Length) / what.Length;
}
