using System.Text.RegularExpressions;

namespace Rdev.Core.Projects;

/// <summary>Project names are DNS labels (SPEC section 3); the <c>projects</c> table checks the same pattern.</summary>
public static partial class ProjectNames
{
    public const string Pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";

    public static bool IsValid(string? name) => name is not null && Regex().IsMatch(name);

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Regex();
}
