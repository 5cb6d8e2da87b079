using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Api.Data;
using Rdev.Api.Keys;
using Rdev.Tests.Discovery;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// Guessed keys must be cheap: the per-address limit applies before any database work, and unknown ids are cached.
/// Database work is counted as the API's Npgsql commands against this test's database (an activity listener is
/// process-wide, hence the serial collection).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class UnknownKeyFloodTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int Burst = 20;

    [Fact]
    public async Task FifteenHundredGuessedKeysFromOneAddressCostAFewQueriesAndAValidKeyStillWorks()
    {
        await using var factory = KeysHost.CreateOnKestrel(database, new Dictionary<string, string?>
        {
            ["Rdev:RateLimit:UnauthenticatedBurst"] = Burst.ToString(),
            ["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "60",
            // Every use of the valid key goes back to the database: its cache entry is always expired.
            ["Rdev:Keys:CacheSeconds"] = "0",
        });
        // The replica knows the bootstrap admin key's id from its start (BootstrapAdminKey remembers it), so the admin
        // key's first use costs no token of the address's bucket; the key it creates is known at once. So the whole
        // burst is left for the guesses.
        var cache = factory.Services.GetRequiredService<ApiKeyCache>();
        await Eventually.TrueAsync(() => cache.IsKnown(KeysHost.AdminKey.Split('_')[1]),
            "the replica knows the bootstrap admin key's id", TimeSpan.FromSeconds(15));
        var valid = await factory.AdminClient().CreateKeyAsync("legit", [Scopes.ProjectsRead]);
        var legit = factory.ClientWithKey(valid.Key);
        Assert.Equal(HttpStatusCode.OK, (await legit.GetAsync("/api/v1/projects")).StatusCode);
        var anonymous = factory.CreateClient();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? lastLimited = null;
        long queries;
        using (var counter = new QueryCounter(database.Name))
        {
            for (var i = 0; i < 1500; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects");
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {RandomKey()}");
                var response = await anonymous.SendAsync(request);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    lastLimited = response;
                }
            }

            queries = counter.Count;
        }

        // Before: one key lookup per request, 1,500 queries or more.
        Assert.True(queries < 100, $"1,500 guessed keys cost {queries} database queries");
        Assert.All(statuses.Take(Burst), status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.All(statuses, status => Assert.Contains(status, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) > 1400, "most guesses after the burst are refused with 429");
        await lastLimited!.AssertProblemAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.True(lastLimited!.Headers.RetryAfter is not null);
        Assert.Equal(Burst.ToString(), lastLimited.Headers.GetValues("RateLimit-Limit").Single());
        Assert.True(lastLimited.Headers.Contains("RateLimit-Remaining") && lastLimited.Headers.Contains("RateLimit-Reset"));

        // The valid key from the same address has its own bucket, and its expired cache entry is simply read again
        // (which also shows that the counter sees the API's queries).
        using (var counter = new QueryCounter(database.Name))
        {
            Assert.Equal(HttpStatusCode.OK, (await legit.GetAsync("/api/v1/projects")).StatusCode);
            Assert.True(counter.Count >= 1);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await anonymous.GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task TheSameUnknownKeyIsLookedUpOnce()
    {
        await using var factory = KeysHost.CreateOnKestrel(database);
        var guessed = factory.ClientWithKey(RandomKey());
        await (await guessed.GetAsync("/api/v1/projects")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");

        using var counter = new QueryCounter(database.Name);
        for (var i = 0; i < 200; i++)
        {
            await (await guessed.GetAsync("/api/v1/projects")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        Assert.True(counter.Count < 20, $"200 repeats of one unknown key cost {counter.Count} database queries");
    }

    [Fact]
    public async Task AKeyCreatedAfterItsIdWasCachedAsUnknownWorksAtOnceOnAnotherReplica()
    {
        // An hour-long negative cache: only the creation NOTIFY can make replica B forget in time.
        var settings = new Dictionary<string, string?> { ["Rdev:Keys:UnknownKeyCacheSeconds"] = "3600" };
        await using var b = KeysHost.Create(database, settings);
        var later = RandomKey();
        var onB = b.ClientWithKey(later);
        await (await onB.GetAsync("/api/v1/keys")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await ((PostgresNotifications)b.Services.GetService(typeof(PostgresNotifications))!).Connected.WaitAsync(TimeSpan.FromSeconds(15));

        // Replica A starts with that key as its bootstrap admin key: it creates the row (and NOTIFYs).
        await using var a = KeysHost.Create(database, new Dictionary<string, string?>(settings) { ["Rdev:BootstrapAdminKey"] = later });
        Assert.Equal(HttpStatusCode.OK, (await a.ClientWithKey(later).GetAsync("/api/v1/keys")).StatusCode);

        await Eventually.TrueAsync(async () => (await onB.GetAsync("/api/v1/keys")).StatusCode == HttpStatusCode.OK,
            "replica B accepts the new key", TimeSpan.FromSeconds(2));
    }

    private static string RandomKey() =>
        $"rdev_{RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12)}_{RandomNumberGenerator.GetString(Base62, 32)}";

    /// <summary>Counts the Npgsql commands any host in this process runs against one database.</summary>
    private sealed class QueryCounter : IDisposable
    {
        private readonly ActivityListener listener;
        private long count;

        public QueryCounter(string databaseName)
        {
            listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Npgsql",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("db.namespace") as string == databaseName)
                    {
                        Interlocked.Increment(ref count);
                    }
                },
            };
            ActivitySource.AddActivityListener(listener);
        }

        public long Count => Interlocked.Read(ref count);

        public void Dispose() => listener.Dispose();
    }
}
