using System.Net;

namespace Rdev.Api.Keys;

/// <summary>
/// A key can only create keys within its own limits (SPEC section 5), so a restricted admin key cannot mint an
/// unrestricted one. "Within" is subset semantics on every dimension: an empty project or address list means "all",
/// which is never within a restricted list, and no expiry is never within an expiring creator.
/// </summary>
public static class KeyDelegation
{
    /// <summary>What the new key would exceed, one phrase per dimension; empty when it is within the creator's limits.</summary>
    public static List<string> Excesses(ApiKey creator, string[] scopes, string[] projects, IPNetwork[] allowedIps, DateTimeOffset? expiresAt)
    {
        var excesses = new List<string>();
        if (!creator.Scopes.Contains(Scopes.Admin) && scopes.Except(creator.Scopes).ToList() is { Count: > 0 } extra)
        {
            excesses.Add($"scopes ({string.Join(", ", extra)} not held by this key)");
        }

        if (creator.Projects.Length > 0 && (projects.Length == 0 || !projects.All(creator.Projects.Contains)))
        {
            excesses.Add($"projects (must list only projects of this key: {string.Join(", ", creator.Projects)})");
        }

        if (creator.AllowedIps.Length > 0
            && (allowedIps.Length == 0 || !allowedIps.All(network => creator.AllowedIps.Any(own => Contains(own, network)))))
        {
            excesses.Add($"allowed_ips (each must lie within this key's: {string.Join(", ", creator.AllowedIps)})");
        }

        if (creator.ExpiresAt is { } limit && (expiresAt is null || expiresAt > limit))
        {
            excesses.Add($"expires_at (must be set and no later than this key's, {limit:O})");
        }

        return excesses;
    }

    private static bool Contains(IPNetwork outer, IPNetwork inner) =>
        inner.BaseAddress.AddressFamily == outer.BaseAddress.AddressFamily
        && inner.PrefixLength >= outer.PrefixLength
        && outer.Contains(inner.BaseAddress);
}
