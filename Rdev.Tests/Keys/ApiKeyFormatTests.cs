using Rdev.Api.Keys;

namespace Rdev.Tests.Keys;

public sealed class ApiKeyFormatTests
{
    [Fact]
    public void GeneratedKeysParseBackAndVerifyAgainstTheirHash()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            var (id, key, hash) = ApiKeyFormat.Generate();
            Assert.True(seen.Add(key));
            Assert.True(ApiKeyFormat.TryParse(key, out var idRange, out var secretRange));
            Assert.Equal(id, key[idRange]);
            Assert.True(ApiKeyFormat.Verify(key.AsSpan()[secretRange], hash));
            Assert.False(ApiKeyFormat.Verify((key[secretRange][..^1] + (key[^1] == 'a' ? 'b' : 'a')).AsSpan(), hash));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("rdev_")]
    [InlineData("rdev__AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("rdev_short_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("rdev_waytoolongidentifier_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("rdev_Uppercase1_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("RDEV_abcdefgh1_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    [InlineData("rdev_abcdefgh1_AbCdEfGhIjKlMnOpQrStU")]
    [InlineData("rdev_abcdefgh1_AbCdEfGhIjKlMnOpQrStUvWxYz01234_")]
    [InlineData("rdev_abcdefgh1_AbCdEfGhIjKlMnOpQrStUvWxYz01234=")]
    [InlineData("rdev_abcdefgh1_AbCdEfGhIjKlMnOpQrStUvWxYz01234é")]
    [InlineData(" rdev_abcdefgh1_AbCdEfGhIjKlMnOpQrStUvWxYz012345")]
    public void AnythingButTheExactFormatIsRejected(string key) =>
        Assert.False(ApiKeyFormat.TryParse(key, out _, out _));

    [Fact]
    public void SecretsOfOneToThreeHundredCharactersNeverThrow()
    {
        for (var length = 0; length < 300; length++)
        {
            var key = "rdev_abcdefgh1_" + new string('A', length);
            var parsed = ApiKeyFormat.TryParse(key, out _, out _);
            Assert.Equal(length is >= ApiKeyFormat.MinSecretLength and <= ApiKeyFormat.MaxSecretLength, parsed);
        }
    }
}
