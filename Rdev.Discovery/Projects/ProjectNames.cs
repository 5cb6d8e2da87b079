using System.Text.RegularExpressions;

namespace Rdev.Discovery.Projects;

/// <summary>Project names are DNS labels (SPEC section 3); the <c>projects</c> table checks the same pattern.</summary>
public static partial class ProjectNames
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
