using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using static Rdev.Benchmarks.BenchmarkHosts;

namespace Rdev.Benchmarks;

/// <summary>
/// A whole request through the in-process ASP.NET Core pipeline (TestServer, no sockets) of a real rdev host: without
/// the forwarded-headers, authentication, rate-limiting and authorization middleware (the baseline), with them on an
/// anonymous endpoint and no key, and with them and a cached admin key on a scope-protected endpoint; once with the
/// production cache (the key is re-read at most once a second) and once with a cache that never re-reads.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class AuthenticationBenchmarks
{
    private BenchmarkHosts hosts = null!;
    private TestServer withoutSecurity = null!;
    private TestServer rdev = null!;
    private TestServer rdevLongCache = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        hosts = await BenchmarkHosts.CreateAsync();
        withoutSecurity = (await hosts.StartAsync(security: false)).GetTestServer();
        rdev = (await hosts.StartAsync()).GetTestServer();
        rdevLongCache = (await hosts.StartAsync(cacheSeconds: "3600")).GetTestServer();

        await ExpectAsync(withoutSecurity, AnonymousPath, null, StatusCodes.Status200OK);
        await ExpectAsync(rdev, AnonymousPath, null, StatusCodes.Status200OK);
        await ExpectAsync(rdev, KeyPath, AdminKey, StatusCodes.Status200OK);
        await ExpectAsync(rdev, KeyPath, null, StatusCodes.Status401Unauthorized);
        await ExpectAsync(rdevLongCache, KeyPath, AdminKey, StatusCodes.Status200OK);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await hosts.DisposeAsync();

    [Benchmark(Baseline = true, Description = "no security middleware")]
    public Task<HttpContext> NoSecurity() => withoutSecurity.SendAsync(context => Get(context, AnonymousPath, null));

    [Benchmark(Description = "anonymous endpoint, no key")]
    public Task<HttpContext> Anonymous() => rdev.SendAsync(context => Get(context, AnonymousPath, null));

    [Benchmark(Description = "cached key, scope policy")]
    public Task<HttpContext> CachedKey() => rdev.SendAsync(context => Get(context, KeyPath, AdminKey));

    [Benchmark(Description = "cached key, never re-read")]
    public Task<HttpContext> CachedKeyNoReread() => rdevLongCache.SendAsync(context => Get(context, KeyPath, AdminKey));
}
