using System.Net;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Foundation;

public sealed class MigrationTests(EmptyPostgresDatabase database) : IClassFixture<EmptyPostgresDatabase>
{
    [Fact]
    public async Task TwoReplicasStartingAtOnceApplyEachMigrationOnce()
    {
        await using var first = new ApiFactory(database.ConnectionString);
        await using var second = new ApiFactory(database.ConnectionString);

        // Both hosts start (and migrate) concurrently.
        var responses = await Task.WhenAll(
            Task.Run(() => first.CreateClient().GetAsync("/ready")),
            Task.Run(() => second.CreateClient().GetAsync("/ready")));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var scripts = await database.ScalarAsync<long>("SELECT count(*) FROM schemaversions");
        var distinct = await database.ScalarAsync<long>("SELECT count(DISTINCT scriptname) FROM schemaversions");
        Assert.True(scripts > 0);
        Assert.Equal(distinct, scripts);

        // A restart finds nothing to do and starts normally.
        await using var third = new ApiFactory(database.ConnectionString);
        Assert.Equal(HttpStatusCode.OK, (await third.CreateClient().GetAsync("/ready")).StatusCode);
        Assert.Equal(scripts, await database.ScalarAsync<long>("SELECT count(*) FROM schemaversions"));
    }
}
