using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rdev.Api.Keys;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// Describes API key authentication in the OpenAPI document: the two ways to send a key as security schemes, and on
/// every operation that needs a key, its scope plus the 401, 403, 429 and 503 problem answers with examples (their schema
/// is <see cref="OpenApiConventions.ProblemSchema"/>).
/// </summary>
public static class OpenApiSecurity
{
    public const string BearerScheme = "bearer";
    public const string HeaderScheme = "api_key";

    public static IServiceCollection AddOpenApiSecurity(this IServiceCollection services) =>
        services.ConfigureAll<OpenApiOptions>(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "rdev_<id>_<secret>",
                    Description = "`Authorization: Bearer rdev_<id>_<secret>`.",
                };
                document.Components.SecuritySchemes[HeaderScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.ApiKeyHeader,
                    Description = "`X-API-Key: rdev_<id>_<secret>`, for clients that cannot set Authorization.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(DescribeKeyRequirement);
        });

    private static Task DescribeKeyRequirement(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken _)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var path = "/" + context.Description.RelativePath;
        var needsKey = !metadata.OfType<IAllowAnonymous>().Any()
            && (metadata.OfType<IAuthorizeData>().Any() || path.StartsWith("/api/", StringComparison.Ordinal));
        if (!needsKey)
        {
            return Task.CompletedTask;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderScheme, context.Document)] = [] });

        var scopes = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList();
        if (scopes.Count > 0)
        {
            var required = $"Requires an API key with scope {string.Join(", ", scopes.Select(s => $"`{s}`"))}" +
                (scopes.SequenceEqual([Scopes.Admin]) ? "." : " (or `admin`).");
            operation.Description = string.IsNullOrEmpty(operation.Description) ? required : $"{operation.Description}\n\n{required}";
        }

        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", Problem(401, ProblemCodes.Unauthorized, "Unauthorized", ApiKeyAuthenticationHandler.UnauthorizedDetail,
            "No key, or a malformed, unknown, wrong, revoked or expired one: always this same answer, with `WWW-Authenticate: Bearer`."));
        operation.Responses.TryAdd("403", Problem(403, ProblemCodes.Forbidden, "Forbidden", $"This API key lacks the '{scopes.FirstOrDefault() ?? Scopes.Admin}' scope.",
            "The key lacks the scope, or the client address is outside the key's `allowed_ips`."));
        operation.Responses.TryAdd("429", Problem(429, ProblemCodes.RateLimited, "Too Many Requests", "This API key has used its request allowance; retry after 1 s.",
            "The key's token bucket (or, without a valid key, the client address's) is empty. See `Retry-After` and the `RateLimit-*` headers."));
        operation.Responses.TryAdd("503", Problem(503, ProblemCodes.ServiceUnavailable, "Service Unavailable", "The key cannot be checked now. Retry later.",
            "A dependency is down (e.g. the database, so a key not yet cached cannot be checked). See `Retry-After`."));
        return Task.CompletedTask;
    }

    private static OpenApiResponse Problem(int status, string code, string title, string detail, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new()
            {
                Example = new JsonObject
                {
                    ["type"] = status switch
                    {
                        429 => "https://tools.ietf.org/html/rfc6585#section-4",
                        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                        _ => $"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 399}",
                    },
                    ["title"] = title,
                    ["status"] = status,
                    ["detail"] = detail,
                    ["instance"] = "/api/v1/keys",
                    ["code"] = code,
                    ["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736",
                },
            },
        },
    };
}
