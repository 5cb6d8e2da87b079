using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>The per-key and per-address token buckets, on a fake clock so that "the 101st request" is exact.</summary>
public sealed class RateLimitTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static Dictionary<string, string?> Limits(int perKey, int anonymous) => new()
    {
        ["Rdev:RateLimit:PermitsPerMinute"] = perKey.ToString(),
        ["Rdev:RateLimit:Burst"] = perKey.ToString(),
        ["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = anonymous.ToString(),
        ["Rdev:RateLimit:UnauthenticatedBurst"] = anonymous.ToString(),
        // The fake clock stands still, so cached keys stay cached; revocation is not under test here.
        ["Rdev:Keys:CacheSeconds"] = "1",
    };

    [Fact]
    public async Task TheHundredAndFirstRequestInABurstIs429UntilTheBucketRefills()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = KeysHost.Create(database, Limits(perKey: 100, anonymous: 1000), time);
        var key = await factory.AdminClient().CreateKeyAsync("burst", [Scopes.ProjectsRead]);
        var limitedByKey = 0L;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument is { Name: "rdev_rate_limited_total", Meter.Name: KeyMetrics.MeterName })
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        // Other test classes run in parallel and may be limited too; count only this host's.
        var meters = factory.Services.GetService(typeof(IMeterFactory));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && tags.ToArray().Any(t => t is { Key: "limiter", Value: "key" }))
            {
                Interlocked.Add(ref limitedByKey, value);
            }
        });
        listener.Start();
        var client = factory.ClientWithKey(key.Key);

        for (var i = 1; i <= 100; i++)
        {
            var response = await client.GetAsync("/api/v1/projects");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)response.StatusCode}");
            Assert.Equal("100", Header(response, "RateLimit-Limit"));
            Assert.Equal((100 - i).ToString(), Header(response, "RateLimit-Remaining"));
        }

        var limited = await client.GetAsync("/api/v1/projects");
        var problem = await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Contains("retry after 1 s", problem.GetProperty("detail").GetString());
        // 100 per minute: one token every 0.6 s, so the next one is at most a second away; full in a minute.
        Assert.Equal("1", Header(limited, "Retry-After"));
        Assert.Equal("100", Header(limited, "RateLimit-Limit"));
        Assert.Equal("0", Header(limited, "RateLimit-Remaining"));
        Assert.Equal("60", Header(limited, "RateLimit-Reset"));

        // Another key has its own bucket.
        var other = await factory.AdminClient().CreateKeyAsync("other", [Scopes.ProjectsRead]);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(other.Key).GetAsync("/api/v1/projects")).StatusCode);

        time.Advance(TimeSpan.FromMilliseconds(599));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/v1/projects")).StatusCode);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/v1/projects")).StatusCode);

        time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 1; i <= 100; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(4, Interlocked.Read(ref limitedByKey));
    }

    [Fact]
    public async Task RequestsWithoutAValidKeyShareOneBucketPerAddressWhateverKeyTheyForge()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = KeysHost.Create(database, Limits(perKey: 1000, anonymous: 10), time);
        var anonymous = factory.CreateClient();

        for (var i = 0; i < 10; i++)
        {
            // A different forged key each time: still one bucket, the address's.
            var forged = factory.ClientWithKey($"rdev_forged{i:D4}_{new string('A', 32)}");
            await (await forged.GetAsync("/api/v1/keys")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        var limited = await anonymous.GetAsync("/api/v1/keys");
        await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal("6", Header(limited, "Retry-After"));
        Assert.Equal("10", Header(limited, "RateLimit-Limit"));

        // Probes are never limited, and a valid key is not held back by the address's empty bucket.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.AdminClient().GetAsync("/api/v1/keys")).StatusCode);

        time.Advance(TimeSpan.FromSeconds(6));
        await (await anonymous.GetAsync("/api/v1/keys")).AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
