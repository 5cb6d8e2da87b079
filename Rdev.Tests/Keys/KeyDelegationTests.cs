using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Rdev.Api;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// A key creates keys only within its own scopes, projects, allowed IPs and expiry. The creator here is an admin key
/// restricted on every dimension, used over real HTTP from 127.0.0.1 (inside its allowed_ips). Every case counts keys
/// relative to its own before-value, so the cases share one host, database and creator key.
/// </summary>
public sealed class KeyDelegationTests(KeyDelegationTests.Fixture fixture) : IClassFixture<KeyDelegationTests.Fixture>
{
    private readonly PostgresDatabase database = fixture.Database;
    private readonly HttpClient creator = fixture.Creator;
    private readonly DateTimeOffset creatorExpiry = fixture.CreatorExpiry;

    public sealed class Fixture : IAsyncLifetime
    {
        private WebApplicationFactory<ApiMarker> factory = null!;

        public PostgresDatabase Database { get; } = new();

        public HttpClient Creator { get; private set; } = null!;

        public DateTimeOffset CreatorExpiry { get; } = DateTimeOffset.UtcNow.AddDays(1);

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            factory = KeysHost.CreateOnKestrel(Database);
            var restricted = await factory.AdminClient().CreateKeyAsync(
                "restricted admin", [Scopes.Admin], ["alpha", "beta"], ["127.0.0.0/8", "10.1.0.0/16"], CreatorExpiry);
            Creator = factory.ClientWithKey(restricted.Key);
        }

        public async Task DisposeAsync()
        {
            await factory.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    [Theory]
    // projects, allowed_ips (comma-separated; null = omitted, meaning all), expiry relative to the creator's, refused field
    [InlineData("alpha", "127.0.0.1", -1, null)]
    [InlineData("alpha,beta", "127.0.0.0/8,10.1.0.0/16", 0, null)]
    [InlineData("beta", "10.1.2.0/24", -12, null)]
    [InlineData(null, "127.0.0.1", -1, "projects")]
    [InlineData("alpha,gamma", "127.0.0.1", -1, "projects")]
    [InlineData("gamma", "127.0.0.1", -1, "projects")]
    [InlineData("alpha", null, -1, "allowed_ips")]
    [InlineData("alpha", "10.0.0.0/8", -1, "allowed_ips")]
    [InlineData("alpha", "127.0.0.1,192.0.2.1", -1, "allowed_ips")]
    [InlineData("alpha", "::1", -1, "allowed_ips")]
    [InlineData("alpha", "127.0.0.1", null, "expires_at")]
    [InlineData("alpha", "127.0.0.1", 1, "expires_at")]
    public async Task ARestrictedKeyCreatesKeysOnlyWithinItsOwnLimits(string? projects, string? ips, int? expiryHours, string? refused)
    {
        var before = await database.ScalarAsync<long>("SELECT count(*) FROM api_keys");
        var response = await creator.PostAsJsonAsync("/api/v1/keys", new
        {
            name = "delegated",
            scopes = new[] { Scopes.ProjectsRead },
            projects = projects?.Split(','),
            allowed_ips = ips?.Split(','),
            expires_at = expiryHours is { } hours ? creatorExpiry.AddHours(hours) : (DateTimeOffset?)null,
        });

        if (refused is null)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(before + 1, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
            return;
        }

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(refused, detail);
        Assert.DoesNotContain(new[] { "projects", "allowed_ips", "expires_at" }.Where(f => f != refused), f => detail.Contains($"{f} ("));
        Assert.Equal(before, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task TheRestrictedAdminCannotMintAnUnrestrictedAdminKey()
    {
        var before = await database.ScalarAsync<long>("SELECT count(*) FROM api_keys");
        var response = await creator.PostAsJsonAsync("/api/v1/keys", new { name = "escalated", scopes = new[] { Scopes.Admin } });

        var detail = (await response.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN")).GetProperty("detail").GetString()!;
        Assert.Contains("projects", detail);
        Assert.Contains("allowed_ips", detail);
        Assert.Contains("expires_at", detail);
        Assert.Equal(before, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    // Only admin keys reach the keys endpoints today, so the scope rule is checked on the rule itself.
    [Theory]
    [InlineData("commands:run,commands:read", "commands:run", true)]
    [InlineData("commands:run,commands:read", "commands:read,commands:run", true)]
    [InlineData("commands:run,commands:read", "commands:shell", false)]
    [InlineData("commands:run,commands:read", "admin", false)]
    [InlineData("admin", "commands:shell,config:write", true)]
    [InlineData("admin", "admin", true)]
    public void ScopesMustBeAmongTheCreatorsEffectiveScopes(string held, string requested, bool allowed)
    {
        var creatorKey = new ApiKey("creator01", "creator", new byte[32], held.Split(','), [], [], null, DateTimeOffset.UtcNow, null, null);
        var excesses = KeyDelegation.Excesses(creatorKey, requested.Split(','), [], [], null);
        Assert.Equal(allowed, excesses.Count == 0);
        Assert.All(excesses, e => Assert.StartsWith("scopes", e));
    }
}
