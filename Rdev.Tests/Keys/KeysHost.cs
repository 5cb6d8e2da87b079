using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// An API replica for the key tests: a bootstrap admin key, rate limits high enough to stay out of the way unless a
/// test sets its own, and optionally a fake clock or real Kestrel on 127.0.0.1.
/// </summary>
public static class KeysHost
{
    public const string AdminKey = "rdev_keystestadmin_Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya";
    public const string AdminKeyId = "keystestadmin";

    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rdev:BootstrapAdminKey"] = AdminKey,
            ["Rdev:RateLimit:PermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:Burst"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "1000000",
            ["Rdev:RateLimit:UnauthenticatedBurst"] = "1000000",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>An in-process replica (TestServer), optionally on a fake clock.</summary>
    public static WebApplicationFactory<ApiMarker> Create(
        PostgresDatabase database, IDictionary<string, string?>? extra = null, FakeTimeProvider? time = null)
    {
        var factory = new ApiFactory(database.ConnectionString, Settings(extra));
        return time is null
            ? factory
            : factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(time)));
    }

    /// <summary>A replica on real Kestrel bound to 127.0.0.1, so the client address is a real peer address.</summary>
    public static WebApplicationFactory<ApiMarker> CreateOnKestrel(PostgresDatabase database, IDictionary<string, string?>? extra = null)
    {
        var factory = new ApiFactory(database.ConnectionString, Settings(extra));
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        return factory;
    }

    public static HttpClient ClientWithKey(this WebApplicationFactory<ApiMarker> factory, string? key)
    {
        var client = factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public static HttpClient AdminClient(this WebApplicationFactory<ApiMarker> factory) => factory.ClientWithKey(AdminKey);

    public static async Task<CreatedKey> CreateKeyAsync(
        this HttpClient admin, string name, string[] scopes, string[]? projects = null, string[]? allowedIps = null,
        DateTimeOffset? expiresAt = null)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/keys", new
        {
            name,
            scopes,
            projects,
            allowed_ips = allowedIps,
            expires_at = expiresAt,
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return new CreatedKey(body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!, body);
    }
}

public sealed record CreatedKey(string Id, string Key, JsonElement Body);
