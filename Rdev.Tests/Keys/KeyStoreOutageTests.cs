using System.Net;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

public sealed class KeyStoreOutageTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task AKeyThatCannotBeLookedUpIs503NotA401()
    {
        await using var api = KeysHost.Create(database);
        var key = await api.AdminClient().CreateKeyAsync("outage", [Scopes.ProjectsRead]);
        var client = api.ClientWithKey(key.Key);

        await database.ExecuteOnServerAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS false");
        await database.ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}'");
        try
        {
            var response = await client.GetAsync("/api/v1/projects");
            await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE");
            Assert.NotNull(response.Headers.RetryAfter);

            // Without a key there is nothing to look up: still the usual 401.
            await (await api.CreateClient().GetAsync("/api/v1/projects")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }
        finally
        {
            await database.ExecuteOnServerAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS true");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects")).StatusCode);
    }
}
