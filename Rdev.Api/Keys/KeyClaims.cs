using System.Security.Claims;

namespace Rdev.Api.Keys;

/// <summary>
/// The claims an authenticated API key carries, and the checks every feature makes with them.
/// A key with no <see cref="Project"/> claims may use every project.
/// </summary>
public static class KeyClaims
{
    public const string AuthenticationScheme = "ApiKey";
    public const string KeyId = "key_id";
    public const string Scope = "scope";
    public const string Project = "project";

    public static string? GetKeyId(this ClaimsPrincipal user) => user.FindFirst(KeyId)?.Value;

    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(Scope, scope) || user.HasClaim(Scope, Scopes.Admin);

    /// <summary>
    /// Whether this key may see <paramref name="project"/>. Features answer 404 (not 403) when it may not,
    /// so a restricted key cannot learn which other projects exist.
    /// </summary>
    public static bool CanAccessProject(this ClaimsPrincipal user, string project)
    {
        var projects = user.FindAll(Project).ToList();
        return projects.Count == 0 || projects.Any(claim => claim.Value == project);
    }
}
