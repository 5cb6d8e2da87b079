using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Api.Keys;
using static Rdev.Benchmarks.BenchmarkHosts;

namespace Rdev.Benchmarks;

/// <summary>
/// Only the four security middlewares (forwarded headers, authentication, rate limiting, authorization) of a real
/// rdev host, invoked directly on an <see cref="HttpContext"/> with its endpoint already routed, against the same
/// context going straight to a terminal delegate. The difference is what authentication and rate limiting cost a
/// request, without TestServer's own (larger, noisier) overhead.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class SecurityMiddlewareBenchmarks
{
    private static readonly IPAddress Client = IPAddress.Loopback;

    private BenchmarkHosts hosts = null!;
    private IServiceScopeFactory scopes = null!;
    private RequestDelegate terminal = null!;
    private RequestDelegate secured = null!;
    private Endpoint anonymous = null!;
    private Endpoint protectedEndpoint = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        hosts = await BenchmarkHosts.CreateAsync();
        var app = await hosts.StartAsync();
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        anonymous = endpoints.Single(e => e.RoutePattern.RawText == AnonymousPath);
        protectedEndpoint = endpoints.Single(e => e.RoutePattern.RawText == KeyPath);
        scopes = app.Services.GetRequiredService<IServiceScopeFactory>();

        terminal = context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        };
        var pipeline = new ApplicationBuilder(app.Services);
        pipeline.UseForwardedHeaders();
        pipeline.UseAuthentication();
        pipeline.UseRateLimiter();
        pipeline.UseAuthorization();
        pipeline.Run(terminal);
        secured = pipeline.Build();

        foreach (var (endpoint, key, expected) in new[] { (anonymous, (string?)null, 200), (protectedEndpoint, AdminKey, 200), (protectedEndpoint, null, 401) })
        {
            var status = await SendAsync(secured, endpoint, key);
            if (status != expected)
            {
                throw new InvalidOperationException($"{endpoint.DisplayName}: expected {expected}, got {status}.");
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await hosts.DisposeAsync();

    [Benchmark(Baseline = true, Description = "no security middleware")]
    public Task<int> NoSecurity() => SendAsync(terminal, anonymous, null);

    [Benchmark(Description = "anonymous endpoint, no key")]
    public Task<int> Anonymous() => SendAsync(secured, anonymous, null);

    [Benchmark(Description = "cached key, scope policy")]
    public Task<int> CachedKey() => SendAsync(secured, protectedEndpoint, AdminKey);

    /// <summary>What the hosting layer does per request that matters here: a context, a DI scope, the endpoint.</summary>
    private async Task<int> SendAsync(RequestDelegate pipeline, Endpoint endpoint, string? key)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Connection.RemoteIpAddress = Client;
        Get(context, endpoint == anonymous ? AnonymousPath : KeyPath, key);
        context.SetEndpoint(endpoint);
        await pipeline(context);
        return context.Response.StatusCode;
    }
}
