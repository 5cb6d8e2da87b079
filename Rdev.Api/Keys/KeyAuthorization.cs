using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Rdev.Api.Keys;

/// <summary>
/// What every key policy asks, in one requirement (one handler pass per request): an authenticated key, used from an
/// address in its <c>allowed_ips</c>, carrying <see cref="Scope"/> (or <see cref="Scopes.Admin"/>) when one is named.
/// <see cref="OnlyUnderApi"/> is the fallback for endpoints that declare no policy: under <c>/api</c> a key is needed,
/// elsewhere (health, OpenAPI, docs, unknown routes) nothing.
/// </summary>
public sealed record KeyRequirement(string? Scope, bool OnlyUnderApi = false) : IAuthorizationRequirement;

public sealed class KeyAuthorizationHandler : IAuthorizationHandler
{
    public const string AddressDetail = "This API key may not be used from this client address (see the key's allowed_ips).";

    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        var http = context.Resource as HttpContext;
        foreach (var requirement in context.Requirements)
        {
            if (requirement is not KeyRequirement key)
            {
                continue;
            }

            if (key.OnlyUnderApi && !NeedsKey(http))
            {
                context.Succeed(requirement);
            }
            else if (context.User.Identity?.IsAuthenticated != true)
            {
                // Not failed explicitly: the policy evaluator turns an unauthenticated refusal into a 401 challenge.
            }
            else if (http?.Features.Get<ApiKey>() is not { } apiKey || !apiKey.AllowsAddress(http.Connection.RemoteIpAddress))
            {
                context.Fail(new AuthorizationFailureReason(this, AddressDetail));
            }
            else if (key.Scope is not null && !context.User.HasScope(key.Scope))
            {
                context.Fail(new AuthorizationFailureReason(this, $"This API key lacks the '{key.Scope}' scope."));
            }
            else
            {
                context.Succeed(requirement);
            }
        }

        return Task.CompletedTask;
    }

    private static bool NeedsKey(HttpContext? http) =>
        http is null || (http.GetEndpoint() is not null && http.Request.Path.StartsWithSegments("/api"));
}

/// <summary>
/// Turns authorization outcomes into problem details: 403 <c>FORBIDDEN</c> naming the missing scope or the address,
/// and 401 through <see cref="ApiKeyAuthenticationHandler"/>'s challenge.
/// </summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler defaultHandler = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            return defaultHandler.HandleAsync(next, context, policy, authorizeResult);
        }

        var detail = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "This API key may not do this.";
        return context.WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", detail);
    }
}
