using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Api;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

/// <summary>
/// Who may call what. Five keys with different scopes, projects and allowlists, plus no key and a revoked key, against
/// every endpoint: the explicit table below says what success looks like for each endpoint it knows, and every other
/// <c>/api</c> endpoint the app maps is still checked for 401/403 from its declared scope, so the matrix grows by
/// itself as features add endpoints.
/// </summary>
public sealed class AccessMatrixTests(AccessMatrixTests.Fixture fixture) : IClassFixture<AccessMatrixTests.Fixture>
{
    private readonly WebApplicationFactory<ApiMarker> factory = fixture.Factory;
    private readonly HttpClient admin = fixture.Admin;
    private readonly Dictionary<string, Principal> principals = fixture.Principals;

    internal sealed record Principal(string Name, string? Key, string[] Scopes, bool AddressAllowed, bool Valid = true)
    {
        public bool Has(string scope) => Scopes.Contains(Rdev.Api.Keys.Scopes.Admin) || Scopes.Contains(scope);
    }

    /// <summary>An endpoint the table knows how to call successfully; <c>{key}</c> is a fresh key id per call.</summary>
    private sealed record Endpoint(string Method, string Path, string Scope, HttpStatusCode Success, Func<object>? Body = null);

    private static readonly Endpoint[] Known =
    [
        new("POST", "/api/v1/keys", Scopes.Admin, HttpStatusCode.Created, () => new { name = "matrix", scopes = new[] { Scopes.ProjectsRead } }),
        new("GET", "/api/v1/keys", Scopes.Admin, HttpStatusCode.OK),
        new("GET", "/api/v1/keys/{key}", Scopes.Admin, HttpStatusCode.OK),
        new("DELETE", "/api/v1/keys/{key}", Scopes.Admin, HttpStatusCode.NoContent),
        new("GET", "/api/v1/projects", Scopes.ProjectsRead, HttpStatusCode.OK),
    ];

    /// <summary>No case changes a principal (the endpoints act on fresh keys), so the cases share one host and its keys.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public PostgresDatabase Database { get; } = new();

        public WebApplicationFactory<ApiMarker> Factory { get; private set; } = null!;

        public HttpClient Admin { get; private set; } = null!;

        internal Dictionary<string, Principal> Principals { get; } = new();

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            Factory = KeysHost.Create(Database);
            Admin = Factory.AdminClient();
            async Task Add(string name, string[] scopes, string[]? projects = null, string[]? allowedIps = null, bool addressAllowed = true)
            {
                var created = await Admin.CreateKeyAsync(name, scopes, projects, allowedIps);
                Principals[name] = new Principal(name, created.Key, scopes, addressAllowed);
            }

            await Add("admin", [Scopes.Admin]);
            await Add("reader", [Scopes.ProjectsRead, Scopes.CommandsRead], projects: ["alpha"]);
            await Add("runner", [Scopes.CommandsRun, Scopes.CommandsShell, Scopes.CommandsRead]);
            await Add("configurer", [Scopes.ConfigRead, Scopes.ConfigWrite], projects: ["alpha", "beta"]);
            // TestServer requests have no client address, which no allowlist matches.
            await Add("admin-elsewhere", [Scopes.Admin], allowedIps: ["192.0.2.0/24"], addressAllowed: false);

            var revoked = await Admin.CreateKeyAsync("revoked", [Scopes.Admin]);
            Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/keys/{revoked.Id}")).StatusCode);
            Principals["revoked"] = new Principal("revoked", revoked.Key, [Scopes.Admin], true, Valid: false);
            Principals["no key"] = new Principal("no key", null, [], true, Valid: false);
        }

        public async Task DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    public static TheoryData<string> PrincipalNames => new() { "admin", "reader", "runner", "configurer", "admin-elsewhere", "revoked", "no key" };

    [Theory]
    [MemberData(nameof(PrincipalNames))]
    public async Task EachKnownEndpointAnswersSuccessOnlyToKeysGrantedItsScopeFromAnAllowedAddress(string principalName)
    {
        var principal = principals[principalName];
        var client = factory.ClientWithKey(principal.Key);
        foreach (var endpoint in Known)
        {
            var response = await SendAsync(client, endpoint);
            var expected = !principal.Valid ? HttpStatusCode.Unauthorized
                : !principal.Has(endpoint.Scope) || !principal.AddressAllowed ? HttpStatusCode.Forbidden
                : endpoint.Success;
            Assert.True(expected == response.StatusCode,
                $"{principal.Name} → {endpoint.Method} {endpoint.Path}: expected {(int)expected}, got {(int)response.StatusCode}");
            if (expected == HttpStatusCode.Unauthorized)
            {
                await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }
            else if (expected == HttpStatusCode.Forbidden)
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
                Assert.Contains(principal.AddressAllowed ? endpoint.Scope : "allowed_ips", problem.GetProperty("detail").GetString());
            }
        }
    }

    [Fact]
    public async Task EveryApiEndpointDeclaresAScopeAndRefusesCallersWithoutIt()
    {
        var endpoints = MappedApiEndpoints();
        Assert.NotEmpty(endpoints);
        var nobody = factory.CreateClient();
        var elsewhere = factory.ClientWithKey(principals["admin-elsewhere"].Key);
        foreach (var (method, pattern, scope) in endpoints)
        {
            Assert.True(Scopes.All.Contains(scope), $"{method} {pattern.RawText} must require one of the scopes, not '{scope}'");
            var path = SamplePath(pattern);

            var anonymous = await nobody.SendAsync(Request(method, path));
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key: {(int)anonymous.StatusCode}");
            await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");

            // Every non-admin scope but the one required.
            var others = Scopes.All.Where(s => s != scope && s != Scopes.Admin).ToArray();
            var lacking = factory.ClientWithKey((await admin.CreateKeyAsync("lacking", others)).Key);
            var forbidden = await lacking.SendAsync(Request(method, path));
            Assert.True(forbidden.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} without '{scope}': {(int)forbidden.StatusCode}");
            await forbidden.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");

            var wrongAddress = await elsewhere.SendAsync(Request(method, path));
            Assert.True(wrongAddress.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} from outside allowed_ips: {(int)wrongAddress.StatusCode}");
        }
    }

    [Fact]
    public async Task EndpointsOutsideTheApiStayAnonymous()
    {
        var nobody = factory.CreateClient();
        foreach (var path in new[] { "/health", "/alive", "/ready", "/openapi/v1.json", "/docs" })
        {
            Assert.Equal(HttpStatusCode.OK, (await nobody.GetAsync(path)).StatusCode);
        }

        // An unknown route is a 404, with or without a key, never a 401 that would hint otherwise.
        await (await nobody.GetAsync("/api/v1/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    private List<(string Method, RoutePattern Pattern, string? Scope)> MappedApiEndpoints() =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (method, e.RoutePattern, e.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault()?.Policy)))
            .ToList();

    /// <summary>A concrete path for a route pattern; route values only need to get past the route constraints.</summary>
    private static string SamplePath(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "guid") => Guid.NewGuid().ToString(),
            RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "int" or "long") => "1",
            RoutePatternParameterPart parameter => parameter.Name switch
            {
                "type" => "commands",
                "id" => Guid.NewGuid().ToString(),
                _ => "alpha",
            },
            _ => "",
        })));
        return "/" + string.Join('/', segments);
    }

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method is "POST" or "PUT" or "PATCH" ? JsonContent.Create(new { }) : null,
    };

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, Endpoint endpoint)
    {
        var path = endpoint.Path;
        if (path.Contains("{key}"))
        {
            path = path.Replace("{key}", (await admin.CreateKeyAsync("target", [Scopes.ConfigRead])).Id);
        }

        var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), path);
        if (endpoint.Body is not null)
        {
            request.Content = JsonContent.Create(endpoint.Body());
        }

        return await client.SendAsync(request);
    }
}
