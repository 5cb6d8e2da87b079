using System.Net;
using Rdev.Tests.Commands;
using static Rdev.Tests.Sessions.SessionClient;

namespace Rdev.Tests.Sessions;

/// <summary>The watch-all feed <c>GET /api/v1/events</c> (SPEC section 6) with real Claude sessions.</summary>
[Trait("Category", "Slow")]
public sealed class EventsFeedTests(RealClaude claude) : IClassFixture<RealClaude>
{
    [Fact]
    public async Task FeedReplaysAWaitingApprovalAfterAReconnectOnAnyReplica()
    {
        var file = Path.Combine(claude.Workspace, "feed.txt");
        var id = await StartAsync(claude.Api, new { prompt = $"please WRITE {file}" });
        bool Is(System.Net.ServerSentEvents.SseItem<string> e, string status) =>
            e.EventType == "command" && Field(e, "id") == id && Field(e, "status") == status;

        var live = await ReadFeedAsync(claude.Other, e => Is(e, "waiting_approval"), query: $"?project={RealClaude.Project}");
        Assert.Equal(["queued", "running", "waiting_approval"], live.Where(e => Field(e, "id") == id).Select(e => Field(e, "status")));
        Assert.All(live, e => Assert.Equal(RealClaude.Project, Field(e, "project")));
        var ids = live.Select(e => long.Parse(e.EventId!)).ToList();
        Assert.Equal(ids.Order(), ids);

        // A client that saw up to 'running' reconnects (here to the other replica) and gets the waiting state first.
        var running = live.Single(e => Is(e, "running"));
        var replayed = await ReadFeedAsync(claude.Api, _ => true, long.Parse(running.EventId!));
        Assert.True(Is(replayed[0], "waiting_approval"), replayed[0].Data);

        var approvalId = Assert.Single(await ApprovalsAsync(claude.Api, id)).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(claude.Api, id, approvalId, new { decision = "deny" })).StatusCode);
        var after = await ReadFeedAsync(claude.Api, e => Is(e, "succeeded"), long.Parse(replayed[0].EventId!));
        Assert.Equal(["running", "succeeded"], after.Where(e => Field(e, "id") == id).Select(e => Field(e, "status")));
    }

    [Fact]
    public async Task FeedShowsOnlyTheProjectsTheKeyMayUse()
    {
        var limited = await KeyAsync(claude.Api, claude.OtherReplica, "elsewhere-only", ["commands:read"], ["elsewhere"]);
        var hidden = await StartAsync(claude.Api, new { prompt = "in sessions" });
        await CommandsHost.WaitForFinalAsync(claude.Api, hidden);
        var visible = await StartAsync(claude.Api, new { prompt = "in elsewhere" }, "elsewhere");

        var seen = await ReadFeedAsync(limited, e => Field(e, "id") == visible && Field(e, "status") == "succeeded");
        Assert.All(seen, e => Assert.Equal("elsewhere", Field(e, "project")));
        Assert.DoesNotContain(seen, e => Field(e, "id") == hidden);
    }
}
