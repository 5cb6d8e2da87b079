using System.Text.RegularExpressions;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// Item names (SPEC section 7): <c>^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$</c>, and no <c>..</c> anywhere. ASCII only, so
/// no look-alike of '.' or '/', no separator, no control character and no leading dot or dash can reach a path.
/// </summary>
public static partial class ItemNames
{
    public const int MaxLength = 64;

    public const string Rule =
        "must be 1 to 64 characters: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit, without '..'.";

    public static bool IsValid(string? name) =>
        name is not null && Pattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    // \z, not $: '$' would also match before a final newline.
    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
