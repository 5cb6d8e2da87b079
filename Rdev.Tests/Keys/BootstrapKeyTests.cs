using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Rdev.Api;
using Rdev.Api.Data;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

public sealed class BootstrapKeyTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Key = "rdev_bootstrap_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    private const string Rotated = "rdev_bootstrap_ZyXwVuTsRqPoNmLkJiHgFeDcBa987654";

    [Fact]
    public async Task TheBootstrapKeyWorksSurvivesRestartsAndRotatesWhenItsSecretChanges()
    {
        // Two replicas starting together, then a restart: one admin key, unchanged.
        var first = KeysHost.Create(database, Bootstrap(Key));
        var second = KeysHost.Create(database, Bootstrap(Key));
        var statuses = await Task.WhenAll(
            Task.Run(() => first.ClientWithKey(Key).GetAsync("/api/v1/keys")),
            Task.Run(() => second.ClientWithKey(Key).GetAsync("/api/v1/keys")));
        Assert.All(statuses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var created = await database.ScalarAsync<DateTime>("SELECT created_at FROM api_keys WHERE id = 'bootstrap'");
        await first.DisposeAsync();
        await second.DisposeAsync();

        await using (var restarted = KeysHost.Create(database, Bootstrap(Key)))
        {
            Assert.Equal(HttpStatusCode.OK, (await restarted.ClientWithKey(Key).GetAsync("/api/v1/keys")).StatusCode);
        }

        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE id = 'bootstrap'"));
        Assert.Equal(created, await database.ScalarAsync<DateTime>("SELECT created_at FROM api_keys WHERE id = 'bootstrap'"));
        Assert.Equal("{admin}", await database.ScalarAsync<string>("SELECT scopes::text FROM api_keys WHERE id = 'bootstrap'"));

        // A new secret for the same id replaces the old one, which stops working.
        await using (var rotated = KeysHost.Create(database, Bootstrap(Rotated)))
        {
            Assert.Equal(HttpStatusCode.OK, (await rotated.ClientWithKey(Rotated).GetAsync("/api/v1/keys")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await rotated.ClientWithKey(Key).GetAsync("/api/v1/keys")).StatusCode);
        }

        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE id = 'bootstrap'"));
    }

    [Fact]
    public async Task ARevokedBootstrapKeyStaysRevokedUntilItsSecretChanges()
    {
        const string key = "rdev_firstadmin_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
        const string next = "rdev_firstadmin_AbCdEfGhIjKlMnOpQrStUvWxYz999999";
        await using (var api = KeysHost.Create(database, Bootstrap(key)))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await api.ClientWithKey(key).DeleteAsync("/api/v1/keys/firstadmin")).StatusCode);
        }

        await using (var restarted = KeysHost.Create(database, Bootstrap(key)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await restarted.ClientWithKey(key).GetAsync("/api/v1/keys")).StatusCode);
        }

        await using var rotated = KeysHost.Create(database, Bootstrap(next));
        Assert.Equal(HttpStatusCode.OK, (await rotated.ClientWithKey(next).GetAsync("/api/v1/keys")).StatusCode);
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("rdev_UPPER_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("rdev_bootstrap_tooshort")]
    [InlineData("rdev_bootstrap_AbCdEfGhIjKlMnOpQrStUvWxYz01234!")]
    public async Task AMalformedBootstrapKeyStopsStartUpWithoutEchoingIt(string malformed)
    {
        await using var api = KeysHost.Create(database, Bootstrap(malformed));
        var error = Assert.ThrowsAny<Exception>(() => api.CreateClient());
        var validation = error as OptionsValidationException ?? error.InnerException as OptionsValidationException;
        Assert.NotNull(validation);
        Assert.Contains("Rdev:BootstrapAdminKey", validation.Message);
        Assert.DoesNotContain(malformed, validation.Message);
    }

    [Fact]
    public async Task TheReplicaThatEnsuresTheBootstrapKeyKnowsItsIdWithoutWaitingForItsNotification()
    {
        // A replica may list the ids that exist before the bootstrap row is there, and miss the row's NOTIFY while its
        // listener comes up. The key's first use must still not be charged to its address's bucket for unknown ids
        // (RateLimitTests saw it refused with 429 once, in CI). Here the listener never runs: no NOTIFY arrives at all.
        const string key = "rdev_ensuring_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var notifications = new PostgresNotifications(dataSource, [], NullLogger<PostgresNotifications>.Instance);
        using var cache = new ApiKeyCache(new ApiKeyStore(dataSource), notifications, TimeProvider.System,
            Options.Create(new KeyOptions()), NullLogger<ApiKeyCache>.Instance);
        var bootstrap = new BootstrapAdminKey(Options.Create(new RdevOptions { BootstrapAdminKey = key }),
            new ApiKeyStore(dataSource), cache, TimeProvider.System, NullLogger<BootstrapAdminKey>.Instance);

        await bootstrap.StartAsync(CancellationToken.None);

        Assert.True(cache.IsKnown("ensuring"));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE id = 'ensuring'"));
    }

    private static Dictionary<string, string?> Bootstrap(string key) => new() { ["Rdev:BootstrapAdminKey"] = key };
}
