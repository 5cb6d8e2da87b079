using System.Text.Json.Serialization;

namespace Rdev.Api.Keys;

/// <summary>Body of <c>POST /api/v1/keys</c>.</summary>
public sealed record CreateKeyRequest(
    string? Name,
    string[]? Scopes,
    string[]? Projects = null,
    string[]? AllowedIps = null,
    DateTimeOffset? ExpiresAt = null);

/// <summary>A key as the API shows it: never the secret or its hash.</summary>
public record KeyResponse(
    string Id,
    string Name,
    string[] Scopes,
    string[] Projects,
    string[] AllowedIps,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt)
{
    public static KeyResponse From(ApiKey key) => new(
        key.Id, key.Name, key.Scopes, key.Projects, key.AllowedIps.Select(n => n.ToString()).ToArray(),
        key.ExpiresAt, key.CreatedAt, key.LastUsedAt, key.RevokedAt);
}

/// <summary>The answer to a create: the key record plus <see cref="Key"/>, the full secret string, shown this once.</summary>
public sealed record CreatedKeyResponse(
    string Id,
    string Name,
    string[] Scopes,
    string[] Projects,
    string[] AllowedIps,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    [property: JsonPropertyOrder(1)] string Key)
    : KeyResponse(Id, Name, Scopes, Projects, AllowedIps, ExpiresAt, CreatedAt, LastUsedAt, RevokedAt);

public sealed record KeyPage(IReadOnlyList<KeyResponse> Items, string? NextCursor);
