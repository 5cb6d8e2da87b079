using System.Diagnostics.Metrics;

namespace Rdev.Api.Keys;

/// <summary>Authentication and rate-limit counters on the <c>Rdev.Api</c> meter (exported by ServiceDefaults).</summary>
public sealed class KeyMetrics
{
    public const string MeterName = "Rdev.Api";

    private readonly Counter<long> authFailures;
    private readonly Counter<long> rateLimited;

    public KeyMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        authFailures = meter.CreateCounter<long>(
            "rdev_auth_failures_total", description: "Requests whose API key was rejected, by reason.");
        rateLimited = meter.CreateCounter<long>(
            "rdev_rate_limited_total", description: "Requests answered 429 by the per-key or per-IP rate limiter.");
    }

    public void AuthenticationFailed(AuthFailureReason reason) =>
        authFailures.Add(1, new KeyValuePair<string, object?>("reason", ReasonLabel(reason)));

    public void RateLimited(string limiter) =>
        rateLimited.Add(1, new KeyValuePair<string, object?>("limiter", limiter));

    public static string ReasonLabel(AuthFailureReason reason) => reason switch
    {
        AuthFailureReason.Malformed => "malformed",
        AuthFailureReason.UnknownKey => "unknown_key",
        AuthFailureReason.WrongSecret => "wrong_secret",
        AuthFailureReason.Revoked => "revoked",
        _ => "expired",
    };
}
