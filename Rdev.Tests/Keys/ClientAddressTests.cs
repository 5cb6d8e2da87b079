using System.Net;
using System.Net.Http.Json;
using System.Text;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// IP allowlists over real Kestrel on 127.0.0.1, where the connection's peer address is real: X-Forwarded-For counts
/// only when that peer is a trusted proxy.
/// </summary>
public sealed class ClientAddressTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task WithoutTrustedProxiesTheAllowlistSeesThePeerAndIgnoresForgedForwardedFor()
    {
        await using var api = KeysHost.CreateOnKestrel(database);
        var admin = api.AdminClient();
        Assert.Equal("127.0.0.1", admin.BaseAddress!.Host);
        var loopback = await admin.CreateKeyAsync("loopback", [Scopes.ProjectsRead], allowedIps: ["127.0.0.0/8"]);
        var office = await admin.CreateKeyAsync("office", [Scopes.ProjectsRead], allowedIps: ["203.0.113.0/24", "2001:db8::/32"]);

        await ExpectAsync(HttpStatusCode.OK, api, loopback.Key);
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key);

        // A client cannot talk its way into the office network, nor out of loopback.
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key, "203.0.113.7");
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key, "2001:db8::7");
        await ExpectAsync(HttpStatusCode.OK, api, loopback.Key, "198.51.100.1");

        var response = await Send(api, office.Key, null);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        Assert.Contains("allowed_ips", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task BehindATrustedProxyTheForwardedClientAddressIsTheOneChecked()
    {
        await using var api = KeysHost.CreateOnKestrel(database, new Dictionary<string, string?>
        {
            ["Rdev:TrustedProxies:0"] = "127.0.0.1",
            ["Rdev:TrustedProxies:1"] = "10.0.0.0/8",
        });
        var admin = api.AdminClient();
        var office = await admin.CreateKeyAsync("office", [Scopes.ProjectsRead], allowedIps: ["203.0.113.0/24", "2001:db8::/32"]);
        var loopback = await admin.CreateKeyAsync("loopback", [Scopes.ProjectsRead], allowedIps: ["127.0.0.1"]);

        await ExpectAsync(HttpStatusCode.OK, api, office.Key, "203.0.113.7");
        await ExpectAsync(HttpStatusCode.OK, api, office.Key, "2001:db8::7");
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key, "198.51.100.1");
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key);

        // Through two trusted proxies (ours, then 10.1.2.3) the client is the address before them.
        await ExpectAsync(HttpStatusCode.OK, api, office.Key, "203.0.113.7, 10.1.2.3");
        // A hop the proxy did not vouch for stops the unwinding: the client prepended a forged address.
        await ExpectAsync(HttpStatusCode.Forbidden, api, office.Key, "203.0.113.7, 198.51.100.1");

        // The proxy itself is no longer the client once it forwards someone else.
        await ExpectAsync(HttpStatusCode.Forbidden, api, loopback.Key, "203.0.113.7");
        await ExpectAsync(HttpStatusCode.OK, api, loopback.Key);
    }

    [Fact]
    public async Task AnOversizedBodyIs413AndCreatesNothing()
    {
        await using var api = KeysHost.CreateOnKestrel(database);
        var admin = api.AdminClient();
        var before = await database.ScalarAsync<long>("SELECT count(*) FROM api_keys");

        var huge = "{\"name\":\"big\",\"scopes\":[\"admin\"],\"projects\":[" + string.Join(',', Enumerable.Repeat("\"alpha\"", 5000)) + "]}";
        var response = await admin.PostAsync("/api/v1/keys", new StringContent(huge, Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");

        var tooMany = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "many", scopes = new[] { "admin" }, projects = Enumerable.Repeat("alpha", 101) });
        await tooMany.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(before, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    private static async Task ExpectAsync(
        HttpStatusCode expected, Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Rdev.Api.ApiMarker> api, string key, string? forwardedFor = null)
    {
        var response = await Send(api, key, forwardedFor);
        Assert.True(expected == response.StatusCode,
            $"X-Forwarded-For {forwardedFor ?? "(none)"}: expected {(int)expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static Task<HttpResponseMessage> Send(
        Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Rdev.Api.ApiMarker> api, string key, string? forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects");
        request.Headers.Authorization = new("Bearer", key);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return api.CreateClient().SendAsync(request);
    }
}
