using System.Net;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.Sessions.SessionClient;

namespace Rdev.Tests.Sessions;

/// <summary>
/// A Claude session (the real CLI) outlives the replica running it, as durable runs do (a rollout): another replica
/// takes it over, picks the session up from Postgres and goes on without sending the prompt again.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SessionTakeoverTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();
    private FakeAnthropicApi model = null!;
    private Dictionary<string, string?> settings = null!;
    private string workspace = null!;

    public async Task InitializeAsync()
    {
        _ = RealClaude.CliPath; // Fails clearly when scripts/test.sh did not install the CLI.
        await host.InitializeAsync();
        model = await FakeAnthropicApi.StartAsync();
        settings = ApiHost.Merge(RealClaude.ApiSettings(model, host.Root.FullName), new Dictionary<string, string?>
        {
            ["Rdev:Commands:HeartbeatSeconds"] = "0.5",
            ["Rdev:Commands:RunnerTimeoutSeconds"] = "2",
        });
        workspace = await host.AddProjectAsync(RealClaude.Project);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await model.DisposeAsync();
    }

    [Fact]
    public async Task ASessionWaitingForApprovalGoesOnOnTheReplicaThatTakesItOver()
    {
        var (first, firstClient) = host.StartReplica(settings);
        var (_, second) = host.StartReplica(settings);
        await CommandsHost.WaitForProjectAsync(firstClient, RealClaude.Project);
        await CommandsHost.WaitForProjectAsync(second, RealClaude.Project);
        var file = Path.Combine(workspace, "after-takeover.txt");
        var id = await StartAsync(firstClient, new { prompt = $"please WRITE {file}", keep_open = true });
        await WaitForStatusAsync(second, id, "waiting_approval");

        // What SIGTERM does to an API replica: the host stops (StopAsync), here in-process. The CLI keeps running.
        await first.DisposeAsync();
        var approvalId = Assert.Single(await ApprovalsAsync(second, id)).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(second, id, approvalId, new { decision = "allow" })).StatusCode);
        await WaitForStatusAsync(second, id, "waiting_input");
        Assert.Equal(FakeAnthropicApi.WrittenContent, await File.ReadAllTextAsync(file));

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(second, id, "messages", new { text = "after the takeover" })).StatusCode);
        await Eventually.TrueAsync(async () =>
            (await CommandsHost.GetCommandAsync(second, id)).GetProperty("result").GetString() == "echo: after the takeover",
            "the follow-up turn ended");
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(second, id, "close")).StatusCode);

        var (statuses, _) = await StreamAsync(second, id);
        Assert.Equal(["queued", "running", "waiting_approval", "running", "waiting_input", "running", "waiting_input", "succeeded"], statuses);
        // The replica that took over did not send the prompt again: the conversation holds it once, to the end.
        var last = model.Requests.Last(r => FakeAnthropicApi.UserTexts(r).Any(t => t.Contains("after the takeover", StringComparison.Ordinal)));
        Assert.Single(FakeAnthropicApi.UserTexts(last), t => t.Contains("please WRITE", StringComparison.Ordinal));
        Assert.NotEmpty((await CommandsHost.GetCommandAsync(second, id)).GetProperty("session_id").GetString()!);
    }
}
