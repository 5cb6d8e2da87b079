using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Rdev.Api.Keys;

namespace Rdev.Api.RateLimiting;

public static class RateLimitingExtensions
{
    /// <summary>
    /// ASP.NET Core's rate limiting middleware with <see cref="RequestRateLimiter"/> as the global limiter; it must
    /// run after authentication (it partitions by verified key) and before authorization (so unauthenticated floods
    /// are limited per address before they are answered 401).
    /// </summary>
    public static IServiceCollection AddRequestRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<RequestRateLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<RequestRateLimiter, KeyMetrics>((options, limiter, metrics) =>
        {
            options.GlobalLimiter = limiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) => RejectAsync(context, metrics);
        });
        return services;
    }

    private static ValueTask RejectAsync(OnRejectedContext rejected, KeyMetrics metrics)
    {
        var context = rejected.HttpContext;
        var limiter = RequestRateLimiter.LimiterFor(context) ?? "ip";
        metrics.RateLimited(limiter);
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var detail = limiter == "key"
            ? $"This API key has used its request allowance; retry after {seconds} s."
            : $"Too many requests without a valid API key from this address; retry after {seconds} s.";
        return new ValueTask(context.WriteProblemAsync(StatusCodes.Status429TooManyRequests, "Too Many Requests", detail));
    }
}
