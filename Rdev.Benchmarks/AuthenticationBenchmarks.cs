using BenchmarkDotNet.Attributes;
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
/// What API key authentication and rate limiting add to a request, measured through the in-process ASP.NET Core
/// pipeline (TestServer, no sockets): the same tiny endpoint on a bare host, on the real rdev host without a key
/// (AllowAnonymous: authentication finds no key, the per-address bucket, no authorization), and on the real host with
/// a cached admin key (parse, SHA-256 and constant-time compare, claims, per-key bucket, scope and address checks).
/// The real host needs PostgreSQL (<c>RDEV_TEST_POSTGRES</c>) for start-up and the first key lookup; after that the
/// key is answered from the cache, re-read at most once a second as in production.
/// </summary>
[MemoryDiagnoser]
public class AuthenticationBenchmarks
{
    private const string AdminKey = "rdev_benchadmin_Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya";
    private const string Path = "/bench";

    private WebApplication bare = null!;
    private WebApplication rdev = null!;
    private WebApplication rdevLongCache = null!;
    private TestServer bareServer = null!;
    private TestServer rdevServer = null!;
    private TestServer rdevLongCacheServer = null!;
    private string databaseName = null!;
    private string serverConnectionString = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        serverConnectionString = Environment.GetEnvironmentVariable("RDEV_TEST_POSTGRES")
            ?? throw new InvalidOperationException("Set RDEV_TEST_POSTGRES to a PostgreSQL server connection string (see docs/benchmarks.md).");
        databaseName = $"rdev_bench_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE DATABASE \"{databaseName}\"");

        bare = await StartAsync(builder => { }, app => app.MapGet(Path, Hello));
        rdev = await StartRdevAsync(cacheSeconds: null);
        rdevLongCache = await StartRdevAsync(cacheSeconds: "3600");
        bareServer = bare.GetTestServer();
        rdevServer = rdev.GetTestServer();
        rdevLongCacheServer = rdevLongCache.GetTestServer();

        await ExpectAsync(bareServer, Path, null, StatusCodes.Status200OK);
        await ExpectAsync(rdevServer, Path + "/anonymous", null, StatusCodes.Status200OK);
        await ExpectAsync(rdevServer, Path + "/key", AdminKey, StatusCodes.Status200OK);
        await ExpectAsync(rdevServer, Path + "/key", null, StatusCodes.Status401Unauthorized);
        await ExpectAsync(rdevLongCacheServer, Path + "/key", AdminKey, StatusCodes.Status200OK);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await bare.DisposeAsync();
        await rdev.DisposeAsync();
        await rdevLongCache.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{databaseName}\" WITH (FORCE)");
    }

    [Benchmark(Baseline = true, Description = "bare host, no auth")]
    public Task<HttpContext> NoAuth() => bareServer.SendAsync(context => Get(context, Path, null));

    [Benchmark(Description = "rdev host, anonymous endpoint, no key")]
    public Task<HttpContext> AnonymousOnRdev() => rdevServer.SendAsync(context => Get(context, Path + "/anonymous", null));

    [Benchmark(Description = "rdev host, cached key, scope policy")]
    public Task<HttpContext> CachedKeyOnRdev() => rdevServer.SendAsync(context => Get(context, Path + "/key", AdminKey));

    /// <summary>The same with a cache that never re-reads the key: the difference is the once-a-second database read.</summary>
    [Benchmark(Description = "rdev host, cached key, no re-read")]
    public Task<HttpContext> CachedKeyNoReread() => rdevLongCacheServer.SendAsync(context => Get(context, Path + "/key", AdminKey));

    private Task<WebApplication> StartRdevAsync(string? cacheSeconds) => StartAsync(
        builder =>
        {
            builder.Configuration["ConnectionStrings:rdevdb"] =
                new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = databaseName }.ConnectionString;
            builder.Configuration["Rdev:BootstrapAdminKey"] = AdminKey;
            if (cacheSeconds is not null)
            {
                builder.Configuration["Rdev:Keys:CacheSeconds"] = cacheSeconds;
            }
            // Generous buckets: the benchmark measures the limiter's cost, not its refusals.
            builder.Configuration["Rdev:RateLimit:PermitsPerMinute"] = "10000000";
            builder.Configuration["Rdev:RateLimit:Burst"] = "10000000";
            builder.Configuration["Rdev:RateLimit:UnauthenticatedPermitsPerMinute"] = "10000000";
            builder.Configuration["Rdev:RateLimit:UnauthenticatedBurst"] = "10000000";
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.AddServiceDefaults();
            builder.AddApplicationServices();
        },
        app =>
        {
            // The same middleware, in the same order, as Rdev.Api/Program.cs.
            app.UseRdevProblemDetails();
            app.UseForwardedHeaders();
            app.UseAuthentication();
            app.UseRateLimiter();
            app.UseAuthorization();
            app.MapGet(Path + "/anonymous", Hello).AllowAnonymous();
            app.MapGet(Path + "/key", Hello).RequireAuthorization(Scopes.ProjectsRead);
        });

    private static string Hello() => "hello";

    private static void Get(HttpContext context, string path, string? key)
    {
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        if (key is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + key;
        }
    }

    private static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        configure(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }

    private static async Task ExpectAsync(TestServer server, string path, string? key, int status)
    {
        var context = await server.SendAsync(c => Get(c, path, key));
        if (context.Response.StatusCode != status)
        {
            throw new InvalidOperationException($"GET {path}: expected {status}, got {context.Response.StatusCode}.");
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>The key check alone: parse, SHA-256 of the secret, constant-time comparison.</summary>
[MemoryDiagnoser]
public class KeyVerificationBenchmarks
{
    private const string Key = "rdev_benchadmin_Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya";
    private readonly byte[] hash = ApiKeyFormat.HashSecret("Zq4Lr8Vx2Nc6Tb1Hm5Kw9Pd3Gs7Jf0Ya");

    [Benchmark]
    public bool ParseAndVerify() =>
        ApiKeyFormat.TryParse(Key, out _, out var secret) && ApiKeyFormat.Verify(Key.AsSpan()[secret], hash);
}
