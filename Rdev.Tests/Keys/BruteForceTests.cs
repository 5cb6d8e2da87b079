using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

public sealed class BruteForceTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    [Fact]
    public async Task ThousandsOfGuessedKeysGetNoAccessAndByteIdenticalAnswers()
    {
        var failures = new ConcurrentDictionary<string, long>();
        using var listener = ListenToAuthFailures(failures);
        var factory = KeysHost.Create(database);
        var admin = factory.AdminClient();
        var real = await admin.CreateKeyAsync("target", [Scopes.Admin]);
        var anonymous = factory.CreateClient();

        var guesses = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            guesses.Add($"rdev_{RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12)}_{RandomNumberGenerator.GetString(Base62, 32)}");
        }

        for (var i = 0; i < 200; i++)
        {
            guesses.Add($"rdev_{real.Id}_{RandomNumberGenerator.GetString(Base62, 32)}");
        }

        var bodies = new ConcurrentBag<string>();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var challenges = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(guesses, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (guess, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/keys");
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {guess}");
            using var response = await anonymous.SendAsync(request, ct);
            statuses.Add(response.StatusCode);
            challenges.Add(string.Join(",", response.Headers.WwwAuthenticate));
            bodies.Add(WithoutTraceId(await response.Content.ReadAsStringAsync(ct)));
        });

        Assert.Equal(1200, statuses.Count);
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Single(bodies.Distinct());
        Assert.Single(challenges.Distinct());
        Assert.Equal("Bearer", challenges.First());

        // The same body for no key at all (not a failure: nothing was presented), two malformed keys, a revoked key and a
        // wrong secret: 1,204 failures in all.
        var revoked = await admin.CreateKeyAsync("revoked", [Scopes.Admin]);
        await admin.DeleteAsync($"/api/v1/keys/{revoked.Id}");
        foreach (var presented in new[] { null, "rdev_short_x", "Bearer", revoked.Key, real.Key + "x" })
        {
            var response = await factory.ClientWithKey(presented).GetAsync("/api/v1/keys");
            Assert.Equal(bodies.First(), WithoutTraceId(await response.Content.ReadAsStringAsync()));
        }

        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(real.Key).GetAsync("/api/v1/keys")).StatusCode);

        // Reasons stay internal but are counted: in metrics, and aggregated in the audit log (flushed on shutdown).
        Assert.True(failures.GetValueOrDefault("unknown_key") >= 1000);
        Assert.True(failures.GetValueOrDefault("wrong_secret") >= 201);
        Assert.True(failures.GetValueOrDefault("revoked") >= 1);
        var counted = await Eventually.ValueAsync(async () =>
        {
            var sum = await database.ScalarAsync<long>("SELECT coalesce(sum(count), 0)::bigint FROM audit_log WHERE action = 'auth.failed'");
            return (sum >= 1204, sum);
        }, "all 1204 failures are counted in the audit log", TimeSpan.FromSeconds(15));

        await factory.DisposeAsync();
        Assert.Equal(1204, counted);
        // One row per source address and minute: in-process requests have no address, so one row, or two across a minute.
        Assert.InRange(await database.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'auth.failed'"), 1, 2);
        Assert.True(await database.ScalarAsync<long>(
            "SELECT sum((details ->> 'unknown_key')::bigint)::bigint FROM audit_log WHERE action = 'auth.failed'") >= 1000);
    }

    private static string WithoutTraceId(string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.False(string.IsNullOrEmpty(json["trace_id"]?.GetValue<string>()));
        json.Remove("trace_id");
        return json.ToJsonString();
    }

    private static MeterListener ListenToAuthFailures(ConcurrentDictionary<string, long> failures)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument is { Name: "rdev_auth_failures_total", Meter.Name: KeyMetrics.MeterName })
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    failures.AddOrUpdate((string)tag.Value!, value, (_, total) => total + value);
                }
            }
        });
        listener.Start();
        return listener;
    }
}
