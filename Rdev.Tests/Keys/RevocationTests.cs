using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

public sealed class RevocationTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Theory]
    [InlineData("1")]
    // With a cache that would trust a key for an hour, only the NOTIFY can make the second replica let go in time.
    [InlineData("3600")]
    public async Task ARevokedKeyIsRejectedBySecondReplicaWithinOneSecond(string cacheSeconds)
    {
        var settings = new Dictionary<string, string?> { ["Rdev:Keys:CacheSeconds"] = cacheSeconds };
        await using var first = KeysHost.Create(database, settings);
        await using var second = KeysHost.Create(database, settings);
        var key = await first.AdminClient().CreateKeyAsync("revoke me", [Scopes.ProjectsRead]);
        var onSecond = second.ClientWithKey(key.Key);

        // Warm the second replica's cache, and wait for its notification listener to be in place.
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/api/v1/projects")).StatusCode);
        await WaitForListenerAsync(second);

        Assert.Equal(HttpStatusCode.NoContent, (await first.AdminClient().DeleteAsync($"/api/v1/keys/{key.Id}")).StatusCode);
        var revokedAt = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Unauthorized, (await first.ClientWithKey(key.Key).GetAsync("/api/v1/projects")).StatusCode);

        HttpStatusCode status;
        do
        {
            status = (await onSecond.GetAsync("/api/v1/projects")).StatusCode;
        }
        while (status == HttpStatusCode.OK && revokedAt.Elapsed < TimeSpan.FromSeconds(3));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(1), $"second replica still accepted the key {revokedAt.ElapsedMilliseconds} ms after revocation");
    }

    [Fact]
    public async Task AnExpiredKeyIsRejectedWithTheSame401()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = KeysHost.Create(database, new Dictionary<string, string?> { ["Rdev:Keys:CacheSeconds"] = "3600" }, time);
        var key = await factory.AdminClient().CreateKeyAsync("expiring", [Scopes.ProjectsRead], expiresAt: time.GetUtcNow().AddHours(1));
        var client = factory.ClientWithKey(key.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects")).StatusCode);

        // Expiry is checked on every request, even for a key the cache still holds.
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects")).StatusCode);
        time.Advance(TimeSpan.FromMinutes(1));
        var expired = await client.GetAsync("/api/v1/projects");
        var problem = await expired.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");

        var unknown = await factory.ClientWithKey($"rdev_{key.Id}x_{new string('A', 32)}").GetAsync("/api/v1/projects");
        var unknownProblem = await unknown.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal(unknownProblem.GetProperty("detail").GetString(), problem.GetProperty("detail").GetString());
    }

    /// <summary>A NOTIFY sent before the replica LISTENs is lost by design; tests must not race the first LISTEN.</summary>
    private static async Task WaitForListenerAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Rdev.Api.ApiMarker> factory)
    {
        var notifications = (Rdev.Api.Data.PostgresNotifications)factory.Services.GetService(typeof(Rdev.Api.Data.PostgresNotifications))!;
        await notifications.Connected.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
