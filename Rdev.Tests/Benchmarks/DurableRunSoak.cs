using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rdev.Tests.Benchmarks;

/// <summary>
/// The durable-runs soak for docs/benchmarks.md: 20 commands always running on the local runtime across two real API
/// processes, one of which is killed with SIGKILL every 30 s and replaced. Every command's output must be stored with
/// no line lost and none twice, with its true exit code, and no command may be left unfinished. Duration:
/// <c>RDEV_SOAK_SECONDS</c> (default 600). Excluded from the normal run (Category=Benchmark).
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class DurableRunSoak(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Concurrent = 20;
    private const int Lines = 100;
    private static readonly TimeSpan KillEvery = TimeSpan.FromSeconds(30);
    private readonly CommandsHost host = new();
    private readonly List<ApiProcess> replicas = [];
    private readonly Dictionary<string, string?> settings = new()
    {
        ["Rdev:Commands:HeartbeatSeconds"] = "1",
        ["Rdev:Commands:RunnerTimeoutSeconds"] = "5",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public Task InitializeAsync() => host.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var replica in replicas)
        {
            replica.Dispose();
        }

        await host.DisposeAsync();
    }

    [Fact]
    public async Task TwentyCommandsSurviveAReplicaKilledEveryThirtySeconds()
    {
        var duration = TimeSpan.FromSeconds(int.Parse(Environment.GetEnvironmentVariable("RDEV_SOAK_SECONDS") ?? "600", CultureInfo.InvariantCulture));
        await host.AddProjectAsync("soak", maxConcurrent: Concurrent + 5);
        var live = new List<(ApiProcess Process, HttpClient Client)> { await StartAsync(), await StartAsync() };

        var clock = Stopwatch.StartNew();
        var sinceKill = Stopwatch.StartNew();
        var inFlight = new Dictionary<string, (int Exit, TimeSpan Started)>();
        var durations = new List<double>();
        int started = 0, verified = 0, kills = 0, lostLines = 0, duplicates = 0, wrongStatus = 0;
        while (clock.Elapsed < duration || inFlight.Count > 0)
        {
            if (clock.Elapsed > duration + TimeSpan.FromMinutes(3))
            {
                break; // What is still in flight now counts as left unfinished.
            }

            if (clock.Elapsed < duration && sinceKill.Elapsed >= KillEvery)
            {
                // Alternate: the older replica dies mid-command, a fresh one takes its place.
                var victim = live[0];
                Assert.Equal(0, victim.Process.Signal(9));
                victim.Process.Process.WaitForExit(10_000);
                sinceKill.Restart();
                kills++;
                live.RemoveAt(0);
                live.Add(await StartAsync());
            }

            while (clock.Elapsed < duration && inFlight.Count < Concurrent)
            {
                var exit = started % 4;
                var command = $"i=1; while [ $i -le {Lines} ]; do echo \"n{started} line $i\"; sleep 0.1; i=$((i+1)); done; exit {exit}";
                var id = await PostAsync(live, command);
                inFlight[id] = (exit, clock.Elapsed);
                started++;
            }

            foreach (var (id, (exit, since)) in inFlight.ToList())
            {
                var record = await GetAsync(live, id);
                if (record.GetProperty("status").GetString() is "queued" or "running")
                {
                    continue;
                }

                inFlight.Remove(id);
                verified++;
                durations.Add((clock.Elapsed - since).TotalSeconds);
                var expectedStatus = exit == 0 ? "succeeded" : "failed";
                if (record.GetProperty("status").GetString() != expectedStatus || record.GetProperty("exit_code").GetInt32() != exit)
                {
                    wrongStatus++;
                    output.WriteLine($"{id}: {record}");
                }

                var lines = (await live[^1].Client.GetStringAsync($"/api/v1/commands/{id}/output")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                var numbers = lines.Select(l => int.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToList();
                lostLines += Enumerable.Range(1, Lines).Count(n => !numbers.Contains(n));
                duplicates += numbers.Count - numbers.Distinct().Count();
                var (events, maxSeq) = await SequenceAsync(id);
                duplicates += (int)(events - maxSeq); // Never positive when ids are unique and gapless.
            }

            await Task.Delay(500);
        }

        var unfinished = await host.Database.ScalarAsync<long>("SELECT count(*) FROM commands WHERE status IN ('queued', 'running')");
        durations.Sort();
        output.WriteLine($"soak {clock.Elapsed.TotalSeconds:F0} s: {started} commands ({Concurrent} at a time, {Lines} lines each), " +
            $"{kills} replicas killed (SIGKILL every {KillEvery.TotalSeconds:F0} s), {verified} verified");
        output.WriteLine($"lost lines {lostLines}, duplicates {duplicates}, wrong status or exit code {wrongStatus}, left unfinished {unfinished}, " +
            $"run folders left {host.RunFolders().Length}");
        if (durations.Count > 0)
        {
            output.WriteLine($"command duration (ideal {Lines * 0.1:F0} s): median {durations[durations.Count / 2]:F1} s, " +
                $"p99 {durations[(int)(durations.Count * 0.99)]:F1} s, max {durations[^1]:F1} s");
        }

        Assert.Equal((0, 0, 0, 0L), (lostLines, duplicates, wrongStatus, unfinished));
        Assert.True(verified >= Concurrent);
    }

    private async Task<(ApiProcess, HttpClient)> StartAsync()
    {
        var process = ApiProcess.Start(host.ConnectionString, ApiHost.Merge(host.Settings, settings));
        replicas.Add(process);
        var client = new HttpClient { BaseAddress = process.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await process.WaitUntilServingAsync(client, "/api/v1/projects/soak");
        return (process, client);
    }

    private static async Task<string> PostAsync(List<(ApiProcess Process, HttpClient Client)> live, string command)
    {
        var response = await live[^1].Client.PostAsJsonAsync("/api/v1/projects/soak/shell", new { command });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(List<(ApiProcess Process, HttpClient Client)> live, string id) =>
        JsonDocument.Parse(await live[^1].Client.GetStringAsync($"/api/v1/commands/{id}")).RootElement;

    private async Task<(long Events, long MaxSeq)> SequenceAsync(string id) =>
        (await host.Database.ScalarAsync<long>($"SELECT count(*) FROM command_events WHERE command_id = '{id}'"),
         await host.Database.ScalarAsync<long>($"SELECT max(seq) FROM command_events WHERE command_id = '{id}'"));
}
