using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rdev.Api;
using Rdev.Api.Keys;

namespace Rdev.Benchmarks;

/// <summary>
/// Real rdev hosts (every service and background worker of Rdev.Api) on TestServer, against a throw-away database on
/// the PostgreSQL server named by <c>RDEV_TEST_POSTGRES</c>, with two endpoints: <c>/bench/anonymous</c> and
/// <c>/bench/key</c> (scope <c>projects:read</c>).
/// </summary>
public sealed class BenchmarkHosts : IAsyncDisposable
{
    public const string AdminKey = "rdev_benchadmin_Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya";
    public const string AnonymousPath = "/bench/anonymous";
    public const string KeyPath = "/bench/key";

    private readonly List<WebApplication> hosts = [];
    private readonly string serverConnectionString;
    private readonly string databaseName = $"rdev_bench_{Guid.NewGuid():N}";

    private BenchmarkHosts(string serverConnectionString) => this.serverConnectionString = serverConnectionString;

    public static async Task<BenchmarkHosts> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable("RDEV_TEST_POSTGRES")
            ?? throw new InvalidOperationException("Set RDEV_TEST_POSTGRES to a PostgreSQL server connection string (see docs/benchmarks.md).");
        var hosts = new BenchmarkHosts(server);
        await hosts.ExecuteAsync($"CREATE DATABASE \"{hosts.databaseName}\"");
        return hosts;
    }

    /// <param name="security">
    /// false: the same host without the forwarded-headers, authentication, rate-limiting and authorization middleware
    /// (WebApplication would add authentication and authorization back on its own; the two properties it checks say
    /// they are already there).
    /// </param>
    public async Task<WebApplication> StartAsync(string? cacheSeconds = null, bool security = true)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["ConnectionStrings:rdevdb"] =
            new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = databaseName }.ConnectionString;
        builder.Configuration["Rdev:BootstrapAdminKey"] = AdminKey;
        if (cacheSeconds is not null)
        {
            builder.Configuration["Rdev:Keys:CacheSeconds"] = cacheSeconds;
        }

        // Generous buckets: the benchmarks measure the limiter's cost, not its refusals.
        builder.Configuration["Rdev:RateLimit:PermitsPerMinute"] = "10000000";
        builder.Configuration["Rdev:RateLimit:Burst"] = "10000000";
        builder.Configuration["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "10000000";
        builder.Configuration["Rdev:RateLimit:UnauthenticatedBurst"] = "10000000";
        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();
        // The same middleware, in the same order, as Rdev.Api/Program.cs.
        app.UseRdevProblemDetails();
        if (security)
        {
            app.UseForwardedHeaders();
            app.UseAuthentication();
            app.UseRateLimiter();
            app.UseAuthorization();
        }
        else
        {
            ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
            ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        }

        app.MapGet(AnonymousPath, Hello).AllowAnonymous();
        app.MapGet(KeyPath, Hello).RequireAuthorization(Scopes.ProjectsRead);
        await app.StartAsync();
        hosts.Add(app);
        return app;
    }

    public static string Hello() => "hello";

    public static void Get(HttpContext context, string path, string? key)
    {
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        if (key is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + key;
        }
    }

    public static async Task ExpectAsync(TestServer server, string path, string? key, int status)
    {
        var context = await server.SendAsync(c => Get(c, path, key));
        if (context.Response.StatusCode != status)
        {
            throw new InvalidOperationException($"GET {path}: expected {status}, got {context.Response.StatusCode}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{databaseName}\" WITH (FORCE)");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
