using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using k8s;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using Xunit.Abstractions;

namespace Rdev.Tests.Benchmarks;

/// <summary>
/// Load harnesses for docs/benchmarks.md. They print figures and assert only that the work completed; they are
/// excluded from the normal suite (Category=Benchmark) and run with:
/// <c>scripts/test.sh --filter Category=Benchmark --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class CommandBenchmarks(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Runs = 50;
    private readonly CommandsHost host = new();
    private FakeKubeApiServer server = null!;

    public async Task InitializeAsync()
    {
        await host.InitializeAsync();
        server = await host.StartFakeKubernetesAsync();
    }

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task StartLatencyOfEchoThroughRdevBareExecAndKubectl()
    {
        var (settings, services) = CommandsHost.KubernetesRuntime(server);
        var api = StartKestrelApi(settings, services);
        await host.AddPodProjectAsync("bench", server, maxConcurrent: 100);
        await CommandsHost.WaitForProjectAsync(api, "bench");
        var client = server.CreateClient();
        var kubeconfig = server.WriteKubeconfig();

        var rdev = new List<double>();
        var accepted = new List<double>();
        var bare = new List<double>();
        var kubectl = new List<double>();
        for (var i = 0; i < Runs + 3; i++)
        {
            // The first runs warm up connections and JIT; they are not counted.
            var warm = i >= 3;
            var (a, posted) = await TimeRdevAsync(api);
            var b = await TimeBareExecAsync(client);
            var c = await TimeKubectlAsync(kubeconfig);
            if (warm)
            {
                rdev.Add(a);
                accepted.Add(posted);
                bare.Add(b);
                if (c is { } k)
                {
                    kubectl.Add(k);
                }
            }
        }

        output.WriteLine($"request -> first output byte, `echo hi`, median of {Runs} runs (p90):");
        output.WriteLine($"  rdev (POST /shell + SSE): {Median(rdev):F1} ms ({Percentile(rdev, 0.9):F1})");
        output.WriteLine($"    of which POST answered 202: {Median(accepted):F1} ms ({Percentile(accepted, 0.9):F1})");
        output.WriteLine($"  bare KubernetesClient exec: {Median(bare):F1} ms ({Percentile(bare, 0.9):F1})");
        output.WriteLine(kubectl.Count > 0
            ? $"  kubectl exec: {Median(kubectl):F1} ms ({Percentile(kubectl, 0.9):F1})"
            : "  kubectl exec: not measured (kubectl not on PATH)");
        output.WriteLine($"  rdev / bare = {Median(rdev) / Median(bare):F2}");
        Assert.Equal(Runs, rdev.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    public async Task StreamThroughputOf100MegabytesOfOutput(int subscribers)
    {
        const long bytes = 100_000_000;
        host.StartApi(); // migrates the database before the measured process starts
        await host.AddProjectAsync("throughput");
        var settings = new Dictionary<string, string?>(host.Settings) { ["Rdev:Commands:MaxOutputBytes"] = "200000000" };
        using var process = ApiProcess.Start(host.ConnectionString, settings);
        using var api = new HttpClient { BaseAddress = process.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await process.WaitUntilServingAsync(api, "/api/v1/projects/throughput");

        var peak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Process.Refresh();
                peak = Math.Max(peak, process.Process.WorkingSet64);
                await Task.Delay(20);
            }
        });

        var clock = Stopwatch.StartNew();
        var command = await CommandsHost.StartAsync(api, "throughput", "shell",
            new { command = $"head -c {bytes} /dev/zero | tr '\\0' x" });
        var id = command.GetProperty("id").GetString()!;
        var received = await Task.WhenAll(Enumerable.Range(0, subscribers).Select(_ => CountStreamedBytesAsync(api, id)));
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;

        Assert.All(received, count => Assert.Equal(bytes, count));
        output.WriteLine($"100 MB through SSE to {subscribers} subscriber(s): {elapsed.TotalSeconds:F1} s, " +
            $"{bytes / 1e6 / elapsed.TotalSeconds:F1} MB/s end to end per subscriber " +
            $"({subscribers * bytes / 1e6 / elapsed.TotalSeconds:F0} MB/s delivered in all), " +
            $"peak working set of the API process {peak / 1024 / 1024} MiB");
    }

    private HttpClient StartKestrelApi(Dictionary<string, string?> settings, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services)
    {
        var (_, client) = host.StartReplica(settings, services, realHttp: true);
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    private static async Task<(double FirstOutput, double Accepted)> TimeRdevAsync(HttpClient api)
    {
        var clock = Stopwatch.StartNew();
        var response = await api.PostAsJsonAsync("/api/v1/projects/bench/shell", new { command = "echo hi" });
        var accepted = clock.Elapsed.TotalMilliseconds;
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var stream = await api.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await stream.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            if (item.EventType == "output")
            {
                return (clock.Elapsed.TotalMilliseconds, accepted);
            }
        }

        throw new InvalidOperationException("No output.");
    }

    private static async Task<double> TimeBareExecAsync(k8s.Kubernetes client)
    {
        var clock = Stopwatch.StartNew();
        using var socket = await client.WebSocketNamespacedPodExecAsync(
            "claudebox-bench-0", "default", ["echo", "hi"], "main", stderr: true, stdin: false, stdout: true, tty: false);
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.Count > 1 && buffer[0] == 1)
            {
                return clock.Elapsed.TotalMilliseconds;
            }

            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("No output.");
            }
        }
    }

    private static async Task<double?> TimeKubectlAsync(string kubeconfig)
    {
        var clock = Stopwatch.StartNew();
        var info = new ProcessStartInfo("kubectl")
        {
            ArgumentList = { "--kubeconfig", kubeconfig, "exec", "claudebox-bench-0", "-c", "main", "--", "echo", "hi" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using var process = Process.Start(info)!;
            var first = new char[1];
            await process.StandardOutput.ReadAsync(first);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            await process.WaitForExitAsync();
            return elapsed;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static async Task<long> CountStreamedBytesAsync(HttpClient api, string id)
    {
        long count = 0;
        using var response = await api.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(body).EnumerateAsync())
        {
            if (item.EventType == "output")
            {
                count += JsonDocument.Parse(item.Data).RootElement.GetProperty("data").GetString()!.Length;
            }
        }

        return count;
    }

    private static double Median(List<double> samples) => Percentile(samples, 0.5);

    private static double Percentile(List<double> samples, double p)
    {
        var sorted = samples.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
