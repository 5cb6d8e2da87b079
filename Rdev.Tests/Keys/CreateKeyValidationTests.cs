using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Rdev.Api;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>Every case answers without changing anything, so the cases share one API host (and its database).</summary>
public sealed class CreateKeyValidationTests(CreateKeyValidationTests.Fixture fixture) : IClassFixture<CreateKeyValidationTests.Fixture>
{
    private readonly PostgresDatabase database = fixture.Database;
    private readonly HttpClient admin = fixture.Admin;

    public sealed class Fixture : IAsyncLifetime
    {
        private WebApplicationFactory<ApiMarker> factory = null!;

        public PostgresDatabase Database { get; } = new();

        public HttpClient Admin { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            factory = KeysHost.Create(Database);
            Admin = factory.AdminClient();
        }

        public async Task DisposeAsync()
        {
            await factory.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        // body, field, a word of the message
        { """{"scopes":["admin"]}""", "name", "required" },
        { """{"name":"","scopes":["admin"]}""", "name", "required" },
        { """{"name":"semi;colon","scopes":["admin"]}""", "name", "1-64" },
        { $$"""{"name":"{{new string('a', 65)}}","scopes":["admin"]}""", "name", "1-64" },
        { """{"name":"tab\there","scopes":["admin"]}""", "name", "1-64" },
        { """{"name":"ok"}""", "scopes", "at least one" },
        { """{"name":"ok","scopes":[]}""", "scopes", "at least one" },
        { """{"name":"ok","scopes":["root"]}""", "scopes[0]", "Unknown scope" },
        { """{"name":"ok","scopes":["admin","ADMIN"]}""", "scopes[1]", "Unknown scope" },
        { """{"name":"ok","scopes":["admin",null]}""", "scopes[1]", "Unknown scope" },
        { $$"""{"name":"ok","scopes":[{{string.Join(',', Enumerable.Repeat("\"admin\"", Rdev.Api.Keys.Scopes.All.Count + 1))}}]}""", "scopes", "at most" },
        { """{"name":"ok","scopes":["admin"],"projects":["Alpha"]}""", "projects[0]", "project name" },
        { """{"name":"ok","scopes":["admin"],"projects":["alpha","-beta"]}""", "projects[1]", "project name" },
        { """{"name":"ok","scopes":["admin"],"projects":["../etc"]}""", "projects[0]", "project name" },
        { $$"""{"name":"ok","scopes":["admin"],"projects":["{{new string('a', 64)}}"]}""", "projects[0]", "project name" },
        { $$"""{"name":"ok","scopes":["admin"],"projects":[{{string.Join(',', Enumerable.Range(0, 101).Select(i => $"\"p{i}\""))}}]}""", "projects", "at most" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["10.0.0.1/8"]}""", "allowed_ips[0]", "CIDR" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["10.0.0.0/33"]}""", "allowed_ips[0]", "CIDR" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["10"]}""", "allowed_ips[0]", "CIDR" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["localhost"]}""", "allowed_ips[0]", "CIDR" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["127.0.0.1","2001:db8::1/32"]}""", "allowed_ips[1]", "CIDR" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["fe80::1%eth0"]}""", "allowed_ips[0]", "CIDR" },
        // IPv4-mapped IPv6 can never match (client addresses are compared as IPv4): refused, pointing at the IPv4 form.
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["::ffff:192.0.2.1"]}""", "allowed_ips[0]", "IPv4 form" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["10.0.0.0/8","::ffff:192.0.2.0/120"]}""", "allowed_ips[1]", "IPv4 form" },
        { """{"name":"ok","scopes":["admin"],"allowed_ips":["::FFFF:c000:201/128"]}""", "allowed_ips[0]", "IPv4 form" },
        { $$"""{"name":"ok","scopes":["admin"],"allowed_ips":[{{string.Join(',', Enumerable.Range(0, 33).Select(i => $"\"10.0.{i}.0/24\""))}}]}""", "allowed_ips", "at most" },
        { """{"name":"ok","scopes":["admin"],"expires_at":"2001-01-01T00:00:00Z"}""", "expires_at", "future" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task AnInvalidBodyIs400NamingTheFieldAndCreatesNothing(string body, string field, string message)
    {
        var before = await database.ScalarAsync<long>("SELECT count(*) FROM api_keys");
        var response = await admin.PostAsync("/api/v1/keys", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"errors has no '{field}': {errors}");
        Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains(message, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    public static TheoryData<string, string?> UnreadableBodies => new()
    {
        { """{"name":"ok","scopes":["admin"]""", "application/json" },
        { """{"name":"ok","scopes":"admin"}""", "application/json" },
        { """{"name":"ok","scopes":["admin"],"expires_at":"tomorrow"}""", "application/json" },
        { """{"name":"ok","scopes":[1]}""", "application/json" },
        { "[]", "application/json" },
        { "null", "application/json" },
        { "", "application/json" },
        { "\u0000", "application/json" },
        { "{\"name\":\"\\ud800\",\"scopes\":[\"admin\"]}", "application/json" },
    };

    [Theory]
    [MemberData(nameof(UnreadableBodies))]
    public async Task AnUnreadableBodyIsA400ProblemNeverA500(string body, string? contentType)
    {
        var before = await database.ScalarAsync<long>("SELECT count(*) FROM api_keys");
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = contentType is null ? null : new(contentType);
        var response = await admin.PostAsync("/api/v1/keys", content);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        // Either field errors or a detail that says what was wrong with the request.
        Assert.True(problem.TryGetProperty("errors", out _)
            || (problem.TryGetProperty("detail", out var detail) && !string.IsNullOrEmpty(detail.GetString())));
        Assert.Equal(before, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIs415()
    {
        var response = await admin.PostAsync("/api/v1/keys", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task DuplicatesAreFoldedAndSingleAddressesBecomeHostNetworks()
    {
        var created = await admin.CreateKeyAsync("folded", ["projects:read", "projects:read"], ["alpha", "alpha"], ["192.0.2.1", "192.0.2.1/32", "2001:db8::1"]);
        Assert.Equal(["projects:read"], created.Body.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["alpha"], created.Body.GetProperty("projects").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["192.0.2.1/32", "2001:db8::1/128"], created.Body.GetProperty("allowed_ips").EnumerateArray().Select(e => e.GetString()));
    }
}
