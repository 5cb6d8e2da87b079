using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>The cases count only rows about the keys they create, so they share one API host (and its database).</summary>
public sealed class KeysApiTests(KeysApiTests.Fixture fixture) : IClassFixture<KeysApiTests.Fixture>
{
    private readonly PostgresDatabase database = fixture.Database;
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Rdev.Api.ApiMarker> factory = fixture.Factory;
    private readonly HttpClient admin = fixture.Admin;

    public sealed class Fixture : IAsyncLifetime
    {
        public PostgresDatabase Database { get; } = new();

        public Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Rdev.Api.ApiMarker> Factory { get; private set; } = null!;

        public HttpClient Admin { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            Factory = KeysHost.Create(Database);
            Admin = Factory.AdminClient();
        }

        public async Task DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    [Fact]
    public async Task CreatedKeyIsShownOnceAndWorksAtOnce()
    {
        var expiresAt = DateTimeOffset.UtcNow.AddDays(30);
        var created = await admin.CreateKeyAsync("ci runner", ["projects:read"], ["alpha"], ["10.0.0.0/8", "127.0.0.1", "2001:db8::/32"], expiresAt);

        Assert.Matches("^rdev_[a-z0-9]{12}_[A-Za-z0-9]{32}$", created.Key);
        Assert.StartsWith($"rdev_{created.Id}_", created.Key);
        var body = created.Body;
        Assert.Equal("ci runner", body.GetProperty("name").GetString());
        Assert.Equal(["projects:read"], body.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["alpha"], body.GetProperty("projects").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32"], body.GetProperty("allowed_ips").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("last_used_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("revoked_at").ValueKind);

        // Shown once: later reads have the record and never the secret or its hash.
        var shown = await admin.GetStringAsync($"/api/v1/keys/{created.Id}");
        var record = JsonDocument.Parse(shown).RootElement;
        Assert.False(record.TryGetProperty("key", out _));
        Assert.DoesNotContain("hash", shown, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(created.Key[^32..], shown, StringComparison.Ordinal);
        Assert.Equal(body.GetProperty("created_at").GetDateTimeOffset(), record.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(body.GetProperty("expires_at").GetDateTimeOffset(), record.GetProperty("expires_at").GetDateTimeOffset());
        Assert.DoesNotContain(created.Key[^32..], await admin.GetStringAsync("/api/v1/keys"), StringComparison.Ordinal);

        // In-process requests have no client address, which this key's allowlist does not match; an open key works at once.
        await (await factory.ClientWithKey(created.Key).GetAsync("/api/v1/projects")).AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        var open = await admin.CreateKeyAsync("open", ["projects:read"]);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(open.Key).GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task TheSameKeyWorksInTheApiKeyHeaderButNeverInTheQueryString()
    {
        var created = await admin.CreateKeyAsync("header user", ["admin"]);
        var anonymous = factory.CreateClient();

        var viaHeader = new HttpRequestMessage(HttpMethod.Get, "/api/v1/keys");
        viaHeader.Headers.Add("X-API-Key", created.Key);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(viaHeader)).StatusCode);

        foreach (var name in new[] { "api_key", "key", "access_token", "token", "apikey" })
        {
            var response = await anonymous.GetAsync($"/api/v1/keys?{name}={created.Key}");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }
    }

    [Fact]
    public async Task ListPagesNewestFirstWithACursorUntilNextCursorIsNull()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await admin.CreateKeyAsync($"page {i}", ["config:read"])).Id);
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/keys?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}")).RootElement;
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 2);
            seen.AddRange(items.Select(item => item.GetProperty("id").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Contains(KeysHost.AdminKeyId, seen);
        // Newest first: the five keys appear in reverse creation order.
        Assert.Equal(Enumerable.Reverse(ids), seen.Where(ids.Contains));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=MTIzLkFCQw", "cursor")]
    public async Task ABadPagingParameterIsAValidationProblem(string query, string field)
    {
        var response = await admin.GetAsync($"/api/v1/keys?{query}");
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task RevokingIsIdempotentAndUnknownKeysAre404()
    {
        var created = await admin.CreateKeyAsync("short lived", ["projects:read"]);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{created.Id}")).StatusCode);
        var first = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/keys/{created.Id}")).RootElement.GetProperty("revoked_at").GetDateTimeOffset();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{created.Id}")).StatusCode);
        var second = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/keys/{created.Id}")).RootElement.GetProperty("revoked_at").GetDateTimeOffset();
        Assert.Equal(first, second);

        await (await admin.DeleteAsync("/api/v1/keys/nosuchkey123")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await admin.GetAsync("/api/v1/keys/nosuchkey123")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await admin.GetAsync("/api/v1/keys/NOT-AN-ID")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task CreationAndRevocationAreAuditedWithTheActingKeyAndNoSecret()
    {
        var created = await admin.CreateKeyAsync("audited", ["commands:read"]);
        await admin.DeleteAsync($"/api/v1/keys/{created.Id}");

        Assert.Equal(1, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE action = 'key.created' AND key_id = '{KeysHost.AdminKeyId}' AND details ->> 'key' = '{created.Id}'"));
        Assert.Equal(1, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE action = 'key.revoked' AND key_id = '{KeysHost.AdminKeyId}' AND details ->> 'key' = '{created.Id}'"));
        Assert.Equal(0, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE details::text LIKE '%{created.Key[^32..]}%'"));
    }

    [Fact]
    public async Task LastUsedAtIsRecordedInTheBackground()
    {
        var created = await admin.CreateKeyAsync("used", ["projects:read"]);
        var user = factory.ClientWithKey(created.Key);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/projects")).StatusCode);
        }

        var record = await Eventually.ValueAsync(async () =>
        {
            var key = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/keys/{created.Id}")).RootElement;
            return (key.GetProperty("last_used_at").ValueKind != JsonValueKind.Null, key);
        }, "the key's last use is recorded", TimeSpan.FromSeconds(15));

        Assert.InRange(record.GetProperty("last_used_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesKeyAuthenticationOnEveryProtectedOperation()
    {
        var document = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/openapi/v1.json")).RootElement;
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-API-Key", schemes.GetProperty("api_key").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("api_key").GetProperty("in").GetString());

        var operations = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                operations++;
                var security = operation.Value.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name)).ToList();
                Assert.Contains("bearer", security);
                Assert.Contains("api_key", security);
                var responses = operation.Value.GetProperty("responses");
                foreach (var (status, code) in new[] { ("401", "UNAUTHORIZED"), ("403", "FORBIDDEN"), ("429", "RATE_LIMITED") })
                {
                    var example = responses.GetProperty(status).GetProperty("content").GetProperty("application/problem+json").GetProperty("example");
                    Assert.Equal(code, example.GetProperty("code").GetString());
                }
            }
        }

        Assert.True(operations >= 4);
        var create = document.GetProperty("paths").GetProperty("/api/v1/keys").GetProperty("post");
        Assert.Equal("ci pipeline", create.GetProperty("requestBody").GetProperty("content").GetProperty("application/json")
            .GetProperty("example").GetProperty("name").GetString());
        Assert.StartsWith("rdev_", create.GetProperty("responses").GetProperty("201").GetProperty("content").GetProperty("application/json")
            .GetProperty("example").GetProperty("key").GetString());
        Assert.Contains("`admin`", document.GetProperty("paths").GetProperty("/api/v1/keys").GetProperty("post").GetProperty("description").GetString());
        Assert.False(document.GetProperty("paths").TryGetProperty("/health", out var health) && health.TryGetProperty("get", out var get) && get.TryGetProperty("security", out _));
    }
}
