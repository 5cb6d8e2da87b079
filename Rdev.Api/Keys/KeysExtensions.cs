using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rdev.Api.Audit;
using Rdev.Api.Data;

namespace Rdev.Api.Keys;

public static class KeysExtensions
{
    /// <summary>
    /// API key authentication (<see cref="KeyClaims.AuthenticationScheme"/>), one authorization policy per scope,
    /// a fallback that protects everything under <c>/api</c>, and the key cache, usage recorder and bootstrap key.
    /// </summary>
    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<KeyOptions>()
            .BindConfiguration(KeyOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RdevOptions>, ValidateBootstrapAdminKey>();

        services.AddSingleton(new NotificationChannel(ApiKeyCache.Channel));
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<KeyMetrics>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AuthFailureAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<AuthFailureAudit>());
        services.AddSingleton<KeyUsageRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<KeyUsageRecorder>());
        // Registered after DatabaseMigrator, so hosted-service order puts it after the migrations.
        services.AddHostedService<BootstrapAdminKey>();

        services.AddAuthentication(KeyClaims.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(KeyClaims.AuthenticationScheme, null);

        var authorization = services.AddAuthorizationBuilder()
            .SetDefaultPolicy(KeyPolicy(scope: null))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new KeyRequirement(null, OnlyUnderApi: true)).Build());
        foreach (var scope in Scopes.All)
        {
            authorization.AddPolicy(scope, KeyPolicy(scope));
        }

        services.AddSingleton<IAuthorizationHandler, KeyAuthorizationHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return services;
    }

    private static AuthorizationPolicy KeyPolicy(string? scope) =>
        new AuthorizationPolicyBuilder().AddRequirements(new KeyRequirement(scope)).Build();
}
