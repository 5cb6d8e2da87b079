using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Commands;

/// <summary>
/// Durable runs (SPEC section 6) on both runtimes: a command outlives the replica that started it, another replica
/// takes it over and stores the rest of its output exactly once with its true exit code, and its run folder is removed.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DurableRunTests : IAsyncLifetime
{
    // 40 numbered lines, one every 0.2 s, then exit 3: long enough to kill a replica in the middle.
    private const string Counting = "i=1; while [ $i -le 40 ]; do echo \"line $i\"; sleep 0.2; i=$((i+1)); done; exit 3";
    private static readonly Dictionary<string, string?> FastTakeover = new()
    {
        ["Rdev:Commands:HeartbeatSeconds"] = "0.5",
        ["Rdev:Commands:RunnerTimeoutSeconds"] = "2",
    };

    private readonly CommandsHost host = new();
    private FakeKubeApiServer? cluster;

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task SigkillOfTheLaunchingReplicaLosesNoLineAndAnotherReplicaRecordsTheTrueExitCode(string runtime)
    {
        var other = await ReplicaAsync(runtime);
        var project = await ProjectAsync(runtime, "sigkill", other);

        // The launching replica is a real API process, killed with SIGKILL: no shutdown code of it runs.
        var settings = ApiHost.Merge(host.Settings, Settings(runtime));
        using var api = ApiProcess.Start(host.ConnectionString, settings);
        var client = new HttpClient { BaseAddress = api.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await api.WaitUntilServingAsync(client, $"/api/v1/projects/{project}");

        var id = (await CommandsHost.StartAsync(client, project, "shell", new { command = Counting })).GetProperty("id").GetString()!;
        await OutputContainsAsync(other, id, "line 5");
        Assert.Equal(0, api.Signal(9));
        Assert.True(api.Process.WaitForExit(TimeSpan.FromSeconds(10)));

        await AssertCompleteAsync(other, id);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task ARollingSigtermOfBothReplicasLosesNoLine(string runtime)
    {
        var (first, firstClient) = await StartReplicaAsync(runtime);
        var project = await ProjectAsync(runtime, "rolling", firstClient);
        var (second, secondClient) = await StartReplicaAsync(runtime);
        await CommandsHost.WaitForProjectAsync(secondClient, project);

        var id = (await CommandsHost.StartAsync(firstClient, project, "shell", new { command = Counting })).GetProperty("id").GetString()!;
        await OutputContainsAsync(secondClient, id, "line 3");
        // What SIGTERM does to an API replica: the host stops (StopAsync), here in-process.
        await first.DisposeAsync();
        await OutputContainsAsync(secondClient, id, "line 12");

        var (_, third) = await StartReplicaAsync(runtime);
        await CommandsHost.WaitForProjectAsync(third, project);
        await second.DisposeAsync();

        await AssertCompleteAsync(third, id);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("kubernetes")]
    public async Task CancelOnAReplicaThatDidNotStartTheCommandKillsTheWholeTree(string runtime)
    {
        var (first, firstClient) = await StartReplicaAsync(runtime);
        var project = await ProjectAsync(runtime, "handover-cancel", firstClient);
        var (second, secondClient) = await StartReplicaAsync(runtime);
        await CommandsHost.WaitForProjectAsync(secondClient, project);
        var secondRunner = second.Services.GetRequiredService<Rdev.Api.Commands.CommandSupervisor>().RunnerId;

        var marker = Random.Shared.Next(100_000, 999_999).ToString();
        var id = (await CommandsHost.StartAsync(firstClient, project, "shell",
            new { command = $"sleep {marker}1 & sleep {marker}2 & echo started; wait" })).GetProperty("id").GetString()!;
        await OutputContainsAsync(secondClient, id, "started");
        await first.DisposeAsync();
        // The second replica holds the command now; the tree the first one started keeps running until the cancel.
        await Eventually.TrueAsync(async () => await host.Database.ScalarAsync<string>(
            $"SELECT runner_id FROM commands WHERE id = '{id}'") == secondRunner, "the command taken over", TimeSpan.FromSeconds(60));
        Assert.Equal(2, Processes.Matching("sleep " + marker));

        Assert.Equal(HttpStatusCode.Accepted, (await secondClient.PostAsync($"/api/v1/commands/{id}/cancel", null)).StatusCode);
        Assert.Equal("cancelled", (await CommandsHost.WaitForFinalAsync(secondClient, id, TimeSpan.FromSeconds(60))).GetProperty("status").GetString());
        await Eventually.TrueAsync(() => Task.FromResult(Processes.Matching("sleep " + marker) == 0), "no process of the command left");
        await Eventually.TrueAsync(() => host.RunFolders().Length == 0, "the run folder removed");
    }

    [Fact]
    public async Task ACommandWhosePodIsDeletedEndsLostWithin10Seconds()
    {
        var (_, client) = await StartReplicaAsync("kubernetes");
        var project = await ProjectAsync("kubernetes", "pod-deleted", client);
        var id = (await CommandsHost.StartAsync(client, project, "shell", new { command = "echo started; sleep 600" })).GetProperty("id").GetString()!;
        await OutputContainsAsync(client, id, "started");

        cluster!.DeletePod("default", $"claudebox-{project}-0");
        var deleted = DateTimeOffset.UtcNow;
        var record = await CommandsHost.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("lost", record.GetProperty("status").GetString());
        Assert.True(DateTimeOffset.UtcNow - deleted < TimeSpan.FromSeconds(10));
    }

    /// <summary>Every line once and in order, ids 1..n without gaps, exit code 3 recorded, and no run folder left.</summary>
    private async Task AssertCompleteAsync(HttpClient client, string id)
    {
        var record = await CommandsHost.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", record.GetProperty("status").GetString());
        Assert.Equal(3, record.GetProperty("exit_code").GetInt32());
        var events = await CommandsHost.ReadStreamAsync(client, id);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => $"line {i}"), CommandsHost.OutputLines(events));
        Assert.Equal("running", JsonDocument.Parse(events[1].Data).RootElement.GetProperty("status").GetString());
        Assert.Single(events, e => e.EventType == "status" && e.Data.Contains("running"));
        await Eventually.TrueAsync(() => host.RunFolders().Length == 0, "the run folder removed");
    }

    private static async Task OutputContainsAsync(HttpClient client, string id, string text) =>
        await Eventually.TrueAsync(async () => (await client.GetStringAsync($"/api/v1/commands/{id}/output")).Contains(text),
            $"output up to '{text}' stored");

    private async Task<HttpClient> ReplicaAsync(string runtime) => (await StartReplicaAsync(runtime)).Client;

    private async Task<(ApiFactory Factory, HttpClient Client)> StartReplicaAsync(string runtime)
    {
        Action<IServiceCollection>? services = null;
        if (runtime == "kubernetes")
        {
            cluster ??= await host.StartFakeKubernetesAsync();
            services = ApiHost.KubernetesClientFor(cluster);
        }

        return host.StartReplica(Settings(runtime), services);
    }

    private Dictionary<string, string?> Settings(string runtime)
    {
        var settings = new Dictionary<string, string?>(FastTakeover) { ["Rdev:Runtime"] = runtime };
        if (runtime == "kubernetes")
        {
            // For an API process; an in-process replica gets the client configuration as a service instead.
            settings["KUBECONFIG"] = cluster!.WriteKubeconfig();
        }

        return settings;
    }

    private async Task<string> ProjectAsync(string runtime, string name, HttpClient client)
    {
        _ = runtime == "kubernetes" ? await host.AddPodProjectAsync(name, cluster!) : await host.AddProjectAsync(name);
        await CommandsHost.WaitForProjectAsync(client, name);
        return name;
    }
}
