using System.Net;
using System.Text.Json;
using Npgsql;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>Two editors of one item: existence checks, ETags and the per-item lock across replicas.</summary>
public abstract partial class ClaudeConfigContract<THost>
{
    [Fact]
    public async Task CreatingAnExistingNameIs409AndReplacingNeedsACurrentETag()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "skills", "deploy", "v1");
        var url = Url(project, "skills", "deploy");

        var again = await Host.Replica.PostAsync(Url(project, "skills"), JsonContent(new { name = "deploy", content = "v2" }));
        var noPrecondition = await Host.Api.PutAsync(url, JsonContent(new { content = "v2" }));
        var (_, _, newETag) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v2" }, ifMatch: etag);
        var (staleStatus, stale, _) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: etag);
        var (weakStatus, _, _) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: "W/" + newETag);
        var (listStatus, _, listETag) = await SendAsync(Host.Replica, HttpMethod.Put, url, new { content = "v3" }, ifMatch: $"\"nope\", {newETag}");
        var (staleDelete, _, _) = await SendAsync(Host.Api, HttpMethod.Delete, url, ifMatch: newETag);
        var (starStatus, _, _) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v4" }, ifMatch: "*");
        var (badHeader, _, _) = await SendAsync(Host.Api, HttpMethod.Put, url, new { content = "v5" }, ifMatch: "not-quoted");
        var (missingStatus, _, _) = await SendAsync(Host.Api, HttpMethod.Put, Url(project, "skills", "missing"), new { content = "x" }, ifMatch: "*");

        await again.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await noPrecondition.AssertProblemAsync(HttpStatusCode.PreconditionRequired, "PRECONDITION_REQUIRED");
        Assert.Equal((HttpStatusCode.PreconditionFailed, "PRECONDITION_FAILED"), (staleStatus, stale.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.PreconditionFailed, weakStatus);
        Assert.Equal((HttpStatusCode.OK, ETagOf(Utf8("v3"))), (listStatus, listETag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleDelete);
        Assert.Equal(HttpStatusCode.OK, starStatus);
        Assert.Equal(HttpStatusCode.BadRequest, badHeader);
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.Equal("v4", await File.ReadAllTextAsync(ItemFile(workspace, "skills", "deploy")));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(Host.Api, HttpMethod.Delete, url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(Host.Api, HttpMethod.Delete, url)).Status);
        Assert.Equal(["config.created", "config.updated", "config.updated", "config.updated", "config.deleted"],
            (await AuditAsync(project)).Select(a => a.Action));
    }

    [Fact]
    public async Task TwoEditorsWithTheSameETagOnTwoReplicasNeverBothWin()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "commands", "race", "round 0");
        var url = Url(project, "commands", "race");

        for (var round = 1; round <= 20; round++)
        {
            var (a, b) = ($"round {round} from A", $"round {round} from B");
            var results = await Task.WhenAll(
                SendAsync(Host.Api, HttpMethod.Put, url, new { content = a }, ifMatch: etag),
                SendAsync(Host.Replica, HttpMethod.Put, url, new { content = b }, ifMatch: etag));

            var statuses = results.Select(r => r.Status).Order().ToArray();
            Assert.True(statuses.SequenceEqual([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed]), $"round {round}: {string.Join(", ", statuses)}");
            var winner = results[0].Status == HttpStatusCode.OK ? a : b;
            Assert.Equal(winner, await File.ReadAllTextAsync(ItemFile(workspace, "commands", "race")));
            etag = results.Single(r => r.Status == HttpStatusCode.OK).ETag!;
        }

        var creates = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            SendAsync(i % 2 == 0 ? Host.Api : Host.Replica, HttpMethod.Post, Url(project, "agents"), new { name = "once", content = $"writer {i}" })));
        Assert.Equal(1, creates.Count(r => r.Status == HttpStatusCode.Created));
        Assert.Equal(3, creates.Count(r => r.Status == HttpStatusCode.Conflict));
        Assert.Empty(TemporaryFiles(workspace));
    }

    [Fact]
    public async Task AChangeWaitsWhileAnotherReplicaHoldsTheItemsLock()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var (_, etag) = await CreateAsync(Host.Api, project, "agents", "held", "v1");
        await using var holder = new NpgsqlConnection(Host.Database.ConnectionString);
        await holder.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock(hashtextextended('claude-config/{project}/agents/held', 0))", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var put = SendAsync(Host.Replica, HttpMethod.Put, Url(project, "agents", "held"), new { content = "v2" }, ifMatch: etag);
        // The change is seen queued behind the lock in Postgres itself, not inferred from a pause.
        await Eventually.TrueAsync(async () => await Host.Database.ScalarAsync<long>("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """) > 0, "the change waits for the item's lock");
        var waited = !put.IsCompleted;
        var fileWhileHeld = await File.ReadAllTextAsync(ItemFile(workspace, "agents", "held"));
        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.True(waited);
        Assert.Equal("v1", fileWhileHeld);
        Assert.Equal(HttpStatusCode.OK, (await put).Status);
        Assert.Equal("v2", await File.ReadAllTextAsync(ItemFile(workspace, "agents", "held")));
    }
}
