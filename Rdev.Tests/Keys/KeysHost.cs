using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Rdev.Api;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// An API replica for the key tests on a database the test class owns: <see cref="ApiHost"/>'s settings (a bootstrap
/// admin key, rate limits out of the way unless a test sets its own), optionally a fake clock or real Kestrel.
/// </summary>
public static class KeysHost
{
    public const string AdminKey = "rdev_keystestadmin_Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya";
    public const string AdminKeyId = "keystestadmin";

    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null) =>
        ApiHost.BaseSettings(AdminKey, extra);

    /// <summary>An in-process replica (TestServer), optionally on a fake clock; it starts on first use.</summary>
    public static WebApplicationFactory<ApiMarker> Create(
        PostgresDatabase database, IDictionary<string, string?>? extra = null, FakeTimeProvider? time = null) =>
        new ApiFactory(database.ConnectionString, Settings(extra),
            time is null ? null : services => services.AddSingleton<TimeProvider>(time));

    /// <summary>A replica on real Kestrel bound to 127.0.0.1, so the client address is a real peer address.</summary>
    public static WebApplicationFactory<ApiMarker> CreateOnKestrel(PostgresDatabase database, IDictionary<string, string?>? extra = null) =>
        new ApiFactory(database.ConnectionString, Settings(extra)).Start(kestrel: true);

    public static HttpClient ClientWithKey(this WebApplicationFactory<ApiMarker> factory, string? key) =>
        ApiHost.WithKey(factory.CreateClient(), key);

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
