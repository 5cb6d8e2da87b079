using System.Net;
using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.Sessions.SessionClient;

namespace Rdev.Tests.Sessions;

/// <summary>
/// Claude sessions with the real, pinned Claude Code CLI on the local runtime (SPEC section 7a): one-shot, resume
/// and fork; tool use approved, denied or left to expire, decided on another replica than the one running the CLI;
/// follow-ups, interrupt and close of a kept-open session.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ClaudeSessionTests(RealClaude claude) : IClassFixture<RealClaude>
{
    [Fact]
    public async Task OneShotPromptSucceedsWithTheModelsAnswerAndItsSession()
    {
        var id = await StartAsync(claude.Api, new { prompt = "hello there" });

        var (statuses, events) = await StreamAsync(claude.Api, id);
        Assert.Equal(["queued", "running", "succeeded"], statuses);
        Assert.Contains(events, e => e.EventType == "claude" && Field(e, "type") == "system");
        var record = await CommandsHost.GetCommandAsync(claude.Api, id);
        Assert.Equal("echo: hello there", record.GetProperty("result").GetString());
        Assert.Equal(0, record.GetProperty("exit_code").GetInt32());
        Assert.True(Guid.TryParse(record.GetProperty("session_id").GetString(), out _));
    }

    [Fact]
    public async Task ResumeContinuesTheConversationAndForkBranchesIt()
    {
        var first = await CommandsHost.WaitForFinalAsync(claude.Api, await StartAsync(claude.Api, new { prompt = "remember the word apple" }));
        var session = first.GetProperty("session_id").GetString()!;

        var resumed = await CommandsHost.WaitForFinalAsync(claude.Api,
            await StartAsync(claude.Api, new { prompt = "which word resumed", session_id = session }));
        Assert.Equal("succeeded", resumed.GetProperty("status").GetString());
        Assert.Equal(session, resumed.GetProperty("session_id").GetString());
        Assert.Contains("remember the word apple", FakeAnthropicApi.UserTexts(LastRequestWith("which word resumed")));

        var forked = await CommandsHost.WaitForFinalAsync(claude.Api,
            await StartAsync(claude.Api, new { prompt = "which word forked", session_id = session, fork = true }));
        Assert.Equal("succeeded", forked.GetProperty("status").GetString());
        Assert.NotEqual(session, forked.GetProperty("session_id").GetString());
        var seen = FakeAnthropicApi.UserTexts(LastRequestWith("which word forked")).ToList();
        Assert.Contains("remember the word apple", seen);
        Assert.Contains("which word resumed", seen);
    }

    [Fact]
    public async Task AllowedToolUseWaitsForApprovalFromAnotherReplicaThenRunsInTheWorkspace()
    {
        var file = Path.Combine(claude.Workspace, "allowed.txt");
        var id = await StartAsync(claude.Api, new { prompt = $"please WRITE {file}" });

        await WaitForStatusAsync(claude.Other, id, "waiting_approval");
        var approval = Assert.Single(await ApprovalsAsync(claude.Other, id));
        Assert.Equal("Write", approval.GetProperty("tool_name").GetString());
        Assert.Equal(file, approval.GetProperty("input").GetProperty("file_path").GetString());
        Assert.Equal("pending", approval.GetProperty("status").GetString());
        Assert.False(File.Exists(file));
        var approvalId = approval.GetProperty("id").GetString()!;

        // Deciding needs commands:approve.
        var refused = await DecideAsync(claude.NoApprove, id, approvalId, new { decision = "allow" });
        await ProblemAssertions.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "FORBIDDEN");

        var allowed = await DecideAsync(claude.Other, id, approvalId, new { decision = "allow" });
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var decided = JsonDocument.Parse(await allowed.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("allowed", decided.GetProperty("status").GetString());
        Assert.Equal("testadmin", decided.GetProperty("decided_by").GetString());
        var again = await DecideAsync(claude.Api, id, approvalId, new { decision = "deny" });
        await ProblemAssertions.AssertProblemAsync(again, HttpStatusCode.Conflict, "CONFLICT");

        var (statuses, events) = await StreamAsync(claude.Api, id);
        Assert.Equal(["queued", "running", "waiting_approval", "running", "succeeded"], statuses);
        Assert.Equal(["pending", "allowed"], events.Where(e => e.EventType == "approval").Select(e => Field(e, "status")));
        Assert.Equal(FakeAnthropicApi.WrittenContent, await File.ReadAllTextAsync(file));
        Assert.StartsWith("tool done:", (await CommandsHost.GetCommandAsync(claude.Api, id)).GetProperty("result").GetString());
        Assert.Equal(1L, await claude.Host.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE action = 'approval.decided' AND details->>'approval_id' = '{approvalId}'"));
    }

    [Fact]
    public async Task DeniedToolUseDoesNotRun()
    {
        var file = Path.Combine(claude.Workspace, "denied.txt");
        var id = await StartAsync(claude.Api, new { prompt = $"please WRITE {file}" });
        await WaitForStatusAsync(claude.Api, id, "waiting_approval");
        var approvalId = Assert.Single(await ApprovalsAsync(claude.Api, id)).GetProperty("id").GetString()!;

        var denied = await DecideAsync(claude.Api, id, approvalId, new { decision = "deny", message = "not that file" });
        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);

        var record = await CommandsHost.WaitForFinalAsync(claude.Api, id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.False(File.Exists(file));
        var approval = Assert.Single(await ApprovalsAsync(claude.Api, id));
        Assert.Equal("denied", approval.GetProperty("status").GetString());
        Assert.Equal("not that file", approval.GetProperty("message").GetString());
    }

    [Fact]
    public async Task UndecidedToolUseExpiresAsDenied()
    {
        var file = Path.Combine(claude.Workspace, "expired.txt");
        var id = await StartAsync(claude.Impatient, new { prompt = $"please WRITE {file}" });

        var record = await CommandsHost.WaitForFinalAsync(claude.Impatient, id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.False(File.Exists(file));
        var approval = Assert.Single(await ApprovalsAsync(claude.Impatient, id));
        Assert.Equal("expired", approval.GetProperty("status").GetString());
        var late = await DecideAsync(claude.Impatient, id, approval.GetProperty("id").GetString()!, new { decision = "allow" });
        await ProblemAssertions.AssertProblemAsync(late, HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task FollowUpReachesTheSameConversationAndCloseEndsTheSession()
    {
        var id = await StartAsync(claude.Api, new { prompt = "first turn alpha", keep_open = true });
        await WaitForStatusAsync(claude.Api, id, "waiting_input");

        var sent = await PostAsync(claude.Other, id, "messages", new { text = "second turn beta" });
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        await Eventually.TrueAsync(() => claude.Model.Requests.Any(r => FakeAnthropicApi.UserTexts(r).Contains("second turn beta")),
            "the follow-up reached the model");
        Assert.Contains("first turn alpha", FakeAnthropicApi.UserTexts(LastRequestWith("second turn beta")));
        await Eventually.TrueAsync(async () =>
            (await CommandsHost.GetCommandAsync(claude.Api, id)).GetProperty("result").GetString() == "echo: second turn beta",
            "the second turn ended");
        await WaitForStatusAsync(claude.Api, id, "waiting_input");

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(claude.Api, id, "close")).StatusCode);
        var (statuses, events) = await StreamAsync(claude.Api, id);
        Assert.Equal(["queued", "running", "waiting_input", "running", "waiting_input", "succeeded"], statuses);
        Assert.Equal(["second turn beta"], events.Where(e => e.EventType == "message").Select(e => Field(e, "text")));
        var late = await PostAsync(claude.Api, id, "messages", new { text = "too late" });
        await ProblemAssertions.AssertProblemAsync(late, HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task InterruptStopsALongTurnAndTheSessionWaitsForInputWithin2Seconds()
    {
        var id = await StartAsync(claude.Api, new { prompt = "go SLOW please", keep_open = true });
        await Eventually.TrueAsync(() => claude.Model.SlowStreams > 0, "the model streams a long answer");

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(claude.Other, id, "interrupt")).StatusCode);
        await WaitForStatusAsync(claude.Api, id, "waiting_input", TimeSpan.FromSeconds(2));

        // The session stays: the next message is a new turn of the same conversation.
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(claude.Api, id, "messages", new { text = "after the interrupt" })).StatusCode);
        await Eventually.TrueAsync(async () =>
            (await CommandsHost.GetCommandAsync(claude.Api, id)).GetProperty("result").GetString() == "echo: after the interrupt",
            "the turn after the interrupt ended");
        Assert.Contains("go SLOW please", FakeAnthropicApi.UserTexts(LastRequestWith("after the interrupt")));
        await PostAsync(claude.Api, id, "close");
        Assert.Equal("succeeded", (await CommandsHost.WaitForFinalAsync(claude.Api, id)).GetProperty("status").GetString());
    }

    private System.Text.Json.Nodes.JsonObject LastRequestWith(string text) =>
        claude.Model.Requests.Last(r => FakeAnthropicApi.UserTexts(r).Contains(text));
}
