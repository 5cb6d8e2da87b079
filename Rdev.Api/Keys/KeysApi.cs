using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Rdev.Api.Audit;

namespace Rdev.Api.Keys;

public static class KeysApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 100;

    /// <summary>Request bodies here are a few hundred bytes; anything much larger is not a key request.</summary>
    public const long MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/v1/keys")
            .WithTags("Keys")
            .RequireAuthorization(Scopes.Admin);

        keys.MapPost("/", CreateKey)
            .WithValidation<CreateKeyRequest>()
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .WithExamples(KeysOpenApi.CreateRequest, "201", KeysOpenApi.Created)
            .WithName("CreateKey")
            .WithSummary("Create a key")
            .WithDescription("Returns the key record plus `key`, the full secret string. It is shown only in this response.");
        keys.MapGet("/", ListKeys)
            .WithExamples(null, "200", KeysOpenApi.Page)
            .WithName("ListKeys")
            .WithSummary("List keys, newest first")
            .WithDescription("Revoked and expired keys are included. Pass `next_cursor` as `cursor` for the next page.");
        keys.MapGet("/{id}", GetKey)
            .WithExamples(null, "200", KeysOpenApi.Shown)
            .WithName("GetKey")
            .WithSummary("Show a key")
            .ProducesProblem(StatusCodes.Status404NotFound);
        keys.MapDelete("/{id}", RevokeKey)
            .WithName("RevokeKey")
            .WithSummary("Revoke a key")
            .WithDescription("Effective on every API replica within a second. Revoking a revoked key changes nothing.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateKeyRequest request, [AsParameters] KeyServices services)
    {
        var now = Microseconds(services.Time.GetUtcNow());
        var scopes = request.Scopes!.Distinct().ToArray();
        var projects = (request.Projects ?? []).Distinct().ToArray();
        var allowedIps = (request.AllowedIps ?? []).Select(ip => CreateKeyValidator.TryParseNetwork(ip, out var n) ? n : default).Distinct().ToArray();
        DateTimeOffset? expiresAt = request.ExpiresAt is { } at ? Microseconds(at.ToUniversalTime()) : null;

        // The authorization policy guarantees an authenticated key; a request without one is refused, never trusted.
        var excesses = services.Context.Features.Get<ApiKey>() is { } creator
            ? KeyDelegation.Excesses(creator, scopes, projects, allowedIps, expiresAt)
            : ["an authenticated creator"];
        if (excesses.Count > 0)
        {
            return Problems.Forbidden(
                $"A key can only create keys within its own scopes, projects, allowed IPs and expiry; this one would exceed: {string.Join("; ", excesses)}.");
        }

        for (var attempt = 1; ; attempt++)
        {
            var (id, secretKey, hash) = ApiKeyFormat.Generate();
            var key = new ApiKey(id, request.Name!, hash, scopes, projects, allowedIps, expiresAt, now, LastUsedAt: null, RevokedAt: null);
            try
            {
                await services.Store.CreateAsync(key, connection => services.Audit.WriteAsync(
                    connection, AuditLog.KeyCreated, services.Context.User.GetKeyId(), project: null,
                    services.Context.Connection.RemoteIpAddress,
                    new { key = key.Id, key.Name, key.Scopes, key.Projects, allowed_ips = KeyResponse.From(key).AllowedIps, key.ExpiresAt },
                    services.Context.RequestAborted), services.Context.RequestAborted);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 3)
            {
                // 36^12 ids make this practically impossible; a retry costs nothing.
                continue;
            }

            services.Cache.Remember(key.Id);
            var shown = KeyResponse.From(key);
            return TypedResults.Created($"/api/v1/keys/{key.Id}", new CreatedKeyResponse(
                shown.Id, shown.Name, shown.Scopes, shown.Projects, shown.AllowedIps, shown.ExpiresAt, shown.CreatedAt,
                shown.LastUsedAt, shown.RevokedAt, secretKey));
        }
    }

    public static async Task<Results<Ok<KeyPage>, ValidationProblem>> ListKeys(
        string? cursor, int? limit, [AsParameters] KeyServices services)
    {
        if (limit is < 1 or > MaxPageSize)
        {
            return Problems.Validation("limit", $"limit must be between 1 and {MaxPageSize}.");
        }

        if (!KeyCursor.TryDecode(cursor, out var after))
        {
            return Problems.Validation("cursor", "cursor is not a value this API returned as next_cursor.");
        }

        var pageSize = limit ?? DefaultPageSize;
        var keys = await services.Store.ListAsync(after, pageSize + 1, services.Context.RequestAborted);
        var next = keys.Count > pageSize ? new KeyCursor(keys[pageSize - 1].CreatedAt, keys[pageSize - 1].Id).Encode() : null;
        return TypedResults.Ok(new KeyPage(keys.Take(pageSize).Select(KeyResponse.From).ToList(), next));
    }

    public static async Task<Results<Ok<KeyResponse>, ProblemHttpResult>> GetKey(string id, [AsParameters] KeyServices services)
    {
        var key = ApiKeyFormat.IsId(id) ? await services.Store.FindAsync(id, services.Context.RequestAborted) : null;
        return key is null ? NotFound() : TypedResults.Ok(KeyResponse.From(key));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(string id, [AsParameters] KeyServices services)
    {
        if (!ApiKeyFormat.IsId(id))
        {
            return NotFound();
        }

        var context = services.Context;
        var revoked = await services.Store.RevokeAsync(id, Microseconds(services.Time.GetUtcNow()), connection => services.Audit.WriteAsync(
            connection, AuditLog.KeyRevoked, context.User.GetKeyId(), project: null, context.Connection.RemoteIpAddress,
            new { key = id }, context.RequestAborted), context.RequestAborted);
        if (revoked is null)
        {
            return NotFound();
        }

        // This replica at once; the others through the NOTIFY sent with the update.
        services.Cache.Evict(id);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound() => Problems.KeyNotFound();

    /// <summary>Postgres keeps microseconds; trimming first makes the create answer match every later read.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset value) => value.AddTicks(-(value.UtcTicks % 10));
}

public sealed record KeyServices(
    [FromServices] ApiKeyStore Store,
    [FromServices] ApiKeyCache Cache,
    [FromServices] AuditLog Audit,
    [FromServices] TimeProvider Time,
    HttpContext Context);
