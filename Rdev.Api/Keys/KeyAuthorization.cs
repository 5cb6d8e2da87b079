using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Rdev.Api.Keys;

/// <summary>The key must carry this scope (or <see cref="Scopes.Admin"/>).</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

/// <summary>The client address must be in the key's <c>allowed_ips</c> (an empty list allows any).</summary>
public sealed class ClientAddressRequirement : IAuthorizationRequirement
{
    public static readonly ClientAddressRequirement Instance = new();
}

/// <summary>
/// The fallback for endpoints that declare no policy: under <c>/api</c> a valid key from an allowed address is needed,
/// elsewhere (health, OpenAPI, docs, unknown routes) nothing.
/// </summary>
public sealed class ApiPathRequirement : IAuthorizationRequirement
{
    public static readonly ApiPathRequirement Instance = new();
}

public sealed class KeyAuthorizationHandler : IAuthorizationHandler
{
    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        var http = context.Resource as HttpContext;
        foreach (var requirement in context.Requirements)
        {
            var satisfied = requirement switch
            {
                ScopeRequirement scope => context.User.HasScope(scope.Scope),
                ClientAddressRequirement => IsFromAllowedAddress(http),
                ApiPathRequirement => !NeedsKey(http) || (context.User.Identity?.IsAuthenticated == true && IsFromAllowedAddress(http)),
                _ => false,
            };
            if (satisfied)
            {
                context.Succeed(requirement);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsFromAllowedAddress(HttpContext? http) =>
        http?.Features.Get<ApiKey>() is { } key && key.AllowsAddress(http.Connection.RemoteIpAddress);

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

        var failed = authorizeResult.AuthorizationFailure?.FailedRequirements.ToList() ?? [];
        var detail = failed.Any(r => r is ClientAddressRequirement or ApiPathRequirement)
            ? "This API key may not be used from this client address (see the key's allowed_ips)."
            : failed.OfType<ScopeRequirement>().FirstOrDefault() is { } missing
                ? $"This API key lacks the '{missing.Scope}' scope."
                : "This API key may not do this.";
        return context.WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", detail);
    }
}
