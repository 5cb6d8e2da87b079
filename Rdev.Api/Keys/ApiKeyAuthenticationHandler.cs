using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Npgsql;
using Rdev.Api.Audit;
using Rdev.Api.RateLimiting;

namespace Rdev.Api.Keys;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c> (never the query string).
/// Every failure looks the same from outside: one 401 problem body; the reason only reaches metrics and the audit log.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache cache,
    KeyUsageRecorder usage,
    AuthFailureAudit failures,
    KeyMetrics metrics,
    RequestRateLimiter limiter,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string ApiKeyHeader = "X-API-Key";
    public const string UnauthorizedDetail =
        "A valid API key is required, sent as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.";

    private static readonly Task<AuthenticateResult> NoKey = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryGetPresentedKey(Request.Headers, out var presented))
        {
            return NoKey;
        }

        if (!ApiKeyFormat.TryParse(presented.Span, out var id, out var secret))
        {
            return Task.FromResult(Fail(AuthFailureReason.Malformed));
        }

        var keyId = presented.Span[id];
        if (cache.TryGetFresh(keyId, out var key))
        {
            return Task.FromResult(Check(key, presented.Span[secret]));
        }

        // A key this replica knows exists (even if its cache entry is stale) is always read: valid keys never wait on
        // their address's bucket. Anything else is an unknown id, answered from the negative cache when possible, and
        // otherwise looked up only if the address still has a token.
        if (!cache.IsKnown(keyId))
        {
            if (cache.IsKnownUnknown(keyId.ToString()))
            {
                return Task.FromResult(Fail(AuthFailureReason.UnknownKey));
            }

            if (!limiter.TryAdmitKeyLookup(Context))
            {
                // Unauthenticated: the rate limiter answers 429 with the refused lease's headers.
                return NoKey;
            }
        }

        return LoadAndCheckAsync(presented, id, secret);
    }

    private async Task<AuthenticateResult> LoadAndCheckAsync(ReadOnlyMemory<char> presented, Range id, Range secret)
    {
        ApiKey? key;
        try
        {
            key = await cache.LoadAsync(presented[id].ToString(), Context.RequestAborted);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Not the client's fault: answering 401 would tell it to throw away a good key.
            LogKeyStoreUnreachable(Logger, ex);
            Context.Features.Set(KeyStoreUnavailable.Instance);
            return AuthenticateResult.NoResult();
        }

        return key is null ? Fail(AuthFailureReason.UnknownKey) : Check(key, presented.Span[secret]);
    }

    private AuthenticateResult Check(ApiKey key, ReadOnlySpan<char> secret)
    {
        if (!ApiKeyFormat.Verify(secret, key.SecretHash))
        {
            return Fail(AuthFailureReason.WrongSecret);
        }

        if (key.RevokedAt is not null)
        {
            return Fail(AuthFailureReason.Revoked);
        }

        if (key.IsExpiredAt(time.GetUtcNow()))
        {
            return Fail(AuthFailureReason.Expired);
        }

        usage.Record(key.Id);
        // Authorization reads the allowlist from here; the rate limiter the key id.
        Context.Features.Set(key);
        var identity = new ClaimsIdentity(Scheme.Name, KeyClaims.KeyId, KeyClaims.Scope);
        identity.AddClaim(new Claim(KeyClaims.KeyId, key.Id));
        foreach (var scope in key.Scopes)
        {
            identity.AddClaim(new Claim(KeyClaims.Scope, scope));
        }

        foreach (var project in key.Projects)
        {
            identity.AddClaim(new Claim(KeyClaims.Project, project));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private AuthenticateResult Fail(AuthFailureReason reason)
    {
        metrics.AuthenticationFailed(reason);
        failures.Record(Context.Connection.RemoteIpAddress, reason);
        return AuthenticateResult.Fail("Invalid API key.");
    }

    /// <summary>The whole 401 answer: the same for a missing, malformed, unknown, wrong, revoked or expired key.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Features.Get<KeyStoreUnavailable>() is not null)
        {
            Response.Headers.RetryAfter = "5";
            return Context.WriteProblemAsync(StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                "The API key cannot be checked right now because the key store is unreachable; retry shortly.");
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        return Context.WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", UnauthorizedDetail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Context.WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "This API key may not do this.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot check an API key, the key store is unreachable")]
    private static partial void LogKeyStoreUnreachable(ILogger logger, Exception exception);

    private static bool TryGetPresentedKey(IHeaderDictionary headers, out ReadOnlyMemory<char> key)
    {
        var authorization = headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value
            && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = value.AsMemory("Bearer ".Length).Trim();
            return true;
        }

        var apiKey = headers[ApiKeyHeader];
        if (apiKey.Count == 1 && apiKey[0] is { } header)
        {
            key = header.AsMemory().Trim();
            return true;
        }

        // Two Authorization or X-API-Key values are ambiguous: treat them as a malformed key, not as none.
        key = ReadOnlyMemory<char>.Empty;
        return authorization.Count > 1 || apiKey.Count > 1;
    }
}

/// <summary>Marks a request whose key could not be looked up (database unreachable): answered 503, not 401.</summary>
public sealed class KeyStoreUnavailable
{
    public static readonly KeyStoreUnavailable Instance = new();
}

/// <summary>Why authentication failed; a metric label and an audit detail, never part of the HTTP answer.</summary>
public enum AuthFailureReason { Malformed, UnknownKey, WrongSecret, Revoked, Expired }
