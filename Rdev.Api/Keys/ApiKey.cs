using System.Net;

namespace Rdev.Api.Keys;

/// <summary>A stored API key: everything but the secret, of which only the SHA-256 is kept.</summary>
public sealed record ApiKey(
    string Id,
    string Name,
    byte[] SecretHash,
    string[] Scopes,
    string[] Projects,
    IPNetwork[] AllowedIps,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt)
{
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expiresAt && now >= expiresAt;

    /// <summary>Whether a request from <paramref name="client"/> may use this key; an empty list allows any address.</summary>
    public bool AllowsAddress(IPAddress? client)
    {
        if (AllowedIps.Length == 0)
        {
            return true;
        }

        if (client is null)
        {
            return false;
        }

        // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; allowlists are written as IPv4.
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        foreach (var network in AllowedIps)
        {
            if (network.Contains(client))
            {
                return true;
            }
        }

        return false;
    }
}
