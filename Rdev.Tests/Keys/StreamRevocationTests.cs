using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using Rdev.Api.Data;
using Rdev.Api.Keys;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>Revoking a key (or its expiry) ends its open streams within seconds, on every replica.</summary>
[Trait("Category", "Slow")]
public sealed class StreamRevocationTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task RevokingAKeyOnOneReplicaEndsItsStreamOnAnotherWithinSeconds()
    {
        var a = host.StartApi();
        var (replicaB, adminOnB) = host.StartReplica();
        var (id, key, _) = await StartLongCommandAsync(a, adminOnB, "revoked-stream", expiresIn: null);
        await ((PostgresNotifications)replicaB.Services.GetService(typeof(PostgresNotifications))!).Connected.WaitAsync(TimeSpan.FromSeconds(15));
        var onB = replicaB.CreateClient();
        onB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        var stream = await OpenStreamAsync(onB, id);
        // The stream's first event is the 'queued' status; the revocation must find the command running.
        await Eventually.TrueAsync(async () => (await CommandsHost.GetCommandAsync(a, id)).GetProperty("status").GetString() == "running",
            "the command runs");

        Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync($"/api/v1/keys/{key.Id}")).StatusCode);
        var revoked = Stopwatch.StartNew();
        var comments = await stream.Ended.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(5), $"the stream went on for {revoked.ElapsedMilliseconds} ms after revocation");
        Assert.Contains("revoked or has expired", comments);
        Assert.Equal("running", (await CommandsHost.GetCommandAsync(a, id)).GetProperty("status").GetString());

        var reconnect = await onB.GetAsync($"/api/v1/commands/{id}/stream");
        Assert.Equal(HttpStatusCode.Unauthorized, reconnect.StatusCode);
    }

    [Fact]
    public async Task AKeyThatExpiresWhileItsStreamIsOpenIsCutLikewise()
    {
        var (replica, admin) = host.StartReplica(new Dictionary<string, string?> { ["Rdev:Streaming:KeyRecheckSeconds"] = "1" });
        var (id, key, expiresAt) = await StartLongCommandAsync(admin, admin, "expiring-stream", TimeSpan.FromSeconds(4));
        var client = replica.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        var stream = await OpenStreamAsync(client, id);

        await stream.Ended.WaitAsync(TimeSpan.FromSeconds(20));
        var late = DateTimeOffset.UtcNow - expiresAt!.Value;
        Assert.True(late < TimeSpan.FromSeconds(3), $"the stream went on for {late.TotalMilliseconds:F0} ms after the key expired");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/v1/commands/{id}/stream")).StatusCode);
    }

    /// <summary>A project, a command that prints for a minute (run by the admin), and a key that may read it.</summary>
    private async Task<(string Id, CreatedKey Key, DateTimeOffset? ExpiresAt)> StartLongCommandAsync(
        HttpClient runOn, HttpClient alsoWaitOn, string project, TimeSpan? expiresIn)
    {
        await host.AddProjectAsync(project);
        await CommandsHost.WaitForProjectAsync(runOn, project);
        await CommandsHost.WaitForProjectAsync(alsoWaitOn, project);
        var expiresAt = DateTimeOffset.UtcNow + expiresIn;
        var key = await runOn.CreateKeyAsync("streamer", [Scopes.CommandsRead], [project], expiresAt: expiresAt);
        var command = await CommandsHost.StartAsync(runOn, project, "shell",
            new { command = "i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done" });
        return (command.GetProperty("id").GetString()!, key, expiresAt);
    }

    /// <summary>Opens the stream, waits for its first event, and reads on in the background until the server ends it.</summary>
    private static async Task<OpenStream> OpenStreamAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync($"/api/v1/commands/{id}/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        var firstEvent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = Task.Run(async () =>
        {
            using var reader = new StreamReader(body);
            var comments = new System.Text.StringBuilder();
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("id:", StringComparison.Ordinal))
                {
                    firstEvent.TrySetResult();
                }
                else if (line.StartsWith(':'))
                {
                    comments.AppendLine(line);
                }
            }

            response.Dispose();
            return comments.ToString();
        });
        await Task.WhenAny(firstEvent.Task, ended).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(firstEvent.Task.IsCompleted, "the stream delivered an event");
        return new OpenStream(ended);
    }

    private sealed record OpenStream(Task<string> Ended);
}
