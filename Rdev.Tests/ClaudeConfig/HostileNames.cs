namespace Rdev.Tests.ClaudeConfig;

/// <summary>Names that must never become a path: traversal, separators, look-alikes, controls, options, lengths.</summary>
internal static class HostileNames
{
    public static readonly IReadOnlyList<string> All = Build();

    private static List<string> Build()
    {
        var names = new List<string>
        {
            "", " ", "  ", ".", "..", "...", "../../etc/passwd", "..\\..\\windows", "../x", "x/..", "a/../b", "/etc/passwd",
            "a/b", "a\\b", ".hidden", ".claude", ".git", "..hidden", "a..b", "x..", "%2e%2e", "%2e%2e%2fetc%2fpasswd", "%2F",
            "..%2F..%2Fetc", "%00", "a%00b", "-rf", "--help", "-", "_leading", "~root", "~", "$HOME", "$(id)", "`id`", "a;rm -rf ~",
            "a|b", "a&b", "a>b", "a<b", "*", "?", "[a]", "{a,b}", "a b", " a", "a ", "a\tb", "a\nb", "a\rb", "\n", "a\n",
            "a\0b", "\0", "a\u0001b", "a\u007fb", "a\u001bb", "name'quote", "name\"quote", "a:b", "a@b", "a#b", "a!b", "a=b", "a+b",
            "a,b", "a%b", "a^b",
            "\u2024\u2024", "\u2024\u2024/etc", "a\uFF0Fb", "\uFF0E\uFF0E", "a\u2215b", "a\u2044b", "\u0430dmin", "caf\u00e9",
            "a\u200bb", "\uFEFFa", "a\u202Eb", "\uFF41", "a\u00A0b", "a\u3000b", "\u0660", "a\u0338b", "\U0001F600", "a\uD800b",
            new string('a', 65), new string('a', 100), new string('a', 1000), "a" + new string('-', 64),
            "CON/../x", "a/./b", "./a", "a/", "/a", "//", "a//b", "\\\\server\\share", "C:\\x", "file:///etc/passwd",
            "..;/", ".%2e", "%252e%252e",
        };
        return names.Distinct(StringComparer.Ordinal).ToList();
    }
}
