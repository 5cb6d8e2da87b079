using Rdev.Api.ClaudeConfig;

namespace Rdev.Tests.ClaudeConfig;

public sealed class FrontMatterTests
{
    [Theory]
    [InlineData("no front matter", null)]
    [InlineData("---\n---\nbody", "{}")]
    [InlineData("---\r\ndescription: crlf\r\n---\r\nbody", """{"description":"crlf"}""")]
    [InlineData("\uFEFF---\ndescription: bom\n---\n", """{"description":"bom"}""")]
    [InlineData("---\n# only a comment\n---\n", "{}")]
    [InlineData("---\nanchor: &a [1, 2]\nalias: *a\n---\n", """{"anchor":[1,2],"alias":[1,2]}""")]
    [InlineData("--- \ndescription: not front matter\n---\n", null)]
    public void ParsesFrontMatterIntoJson(string content, string? expected)
    {
        var (values, error) = FrontMatter.Parse(content);

        Assert.Null(error);
        Assert.Equal(expected, values?.ToJsonString());
    }

    [Theory]
    [InlineData("---\ndescription: x\n", "line 1, column 1")]
    [InlineData("---\na: 1\n  b: 2\n---\n", "line 3, column")]
    [InlineData("---\n- a\n- b\n---\n", "line 2, column 1: The front matter must be a mapping")]
    [InlineData("---\njust text\n---\n", "must be a mapping")]
    [InlineData("---\n? [a]\n: b\n---\n", "keys must be plain text")]
    [InlineData("---\na: *nowhere\n---\n", "names no anchor")]
    [InlineData("---\na: 1\n---\n---\nb: 2\n---\n", null)]
    public void ReportsWhereTheFrontMatterIsWrong(string content, string? expected)
    {
        var (values, error) = FrontMatter.Parse(content);

        if (expected is null)
        {
            // A second block after the first is body text, not front matter.
            Assert.Null(error);
            Assert.Equal("""{"a":1}""", values!.ToJsonString());
            return;
        }

        Assert.Null(values);
        Assert.StartsWith("Front matter is not valid YAML at line ", error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileYamlFailsFastInsteadOfExhaustingTheServer()
    {
        var laughs = "---\na: &a [x, x, x, x, x, x, x, x, x, x]\n" +
            string.Concat(Enumerable.Range(0, 9).Select(i => $"{(char)('b' + i)}: &{(char)('b' + i)} [*{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}]\n")) +
            "---\n";
        var deep = "---\na: " + new string('[', 10_000) + new string(']', 10_000) + "\n---\n";

        var started = DateTime.UtcNow;
        var (_, laughsError) = FrontMatter.Parse(laughs);
        var (_, deepError) = FrontMatter.Parse(deep);

        Assert.Contains("more than 10000 values", laughsError);
        Assert.Contains("nested deeper than 32 levels", deepError);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void ItemNamesFollowTheSpecAndRejectDoubleDots()
    {
        Assert.All(["a", "A9", "review-pr", "my_skill.v2", new string('z', 64), "0"], name => Assert.True(ItemNames.IsValid(name), name));
        Assert.All(HostileNames.All, name => Assert.False(ItemNames.IsValid(name), name));
    }
}
