using System.Security.Cryptography;
using System.Text;

namespace Rdev.Api.Keys;

/// <summary>
/// The key string <c>rdev_&lt;id&gt;_&lt;secret&gt;</c>: id <c>[a-z0-9]{8,16}</c>, secret base62.
/// </summary>
/// <remarks>
/// Only SHA-256 of the secret is stored. A fast hash is enough here, unlike for passwords: generated secrets carry
/// about 190 bits of entropy, so a stolen hash cannot be reversed by guessing however fast each guess is, and a slow
/// KDF would only cost CPU on every request (and hand attackers a cheap way to burn it).
/// </remarks>
public static class ApiKeyFormat
{
    public const string Prefix = "rdev_";
    public const int MinIdLength = 8;
    public const int MaxIdLength = 16;
    public const int GeneratedIdLength = 12;

    /// <summary>32 base62 characters: log2(62) × 32 ≈ 190 bits.</summary>
    public const int GeneratedSecretLength = 32;

    /// <summary>22 base62 characters carry at least 128 bits when chosen at random.</summary>
    public const int MinSecretLength = 22;
    public const int MaxSecretLength = 128;
    public const int MaxKeyLength = 5 + MaxIdLength + 1 + MaxSecretLength;
    public const int HashLength = SHA256.HashSizeInBytes;

    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new random key; <c>RandomNumberGenerator.GetString</c> draws each character without bias.</summary>
    public static (string Id, string Key, byte[] Hash) Generate()
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, GeneratedIdLength);
        var secret = RandomNumberGenerator.GetString(SecretAlphabet, GeneratedSecretLength);
        return (id, $"{Prefix}{id}_{secret}", HashSecret(secret));
    }

    /// <summary>Splits a presented key into id and secret; false for anything that is not exactly the format.</summary>
    public static bool TryParse(ReadOnlySpan<char> key, out Range id, out Range secret)
    {
        id = secret = default;
        if (key.Length > MaxKeyLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key[Prefix.Length..];
        var separator = rest.IndexOf('_');
        if (separator < MinIdLength || separator > MaxIdLength || !IsId(rest[..separator]))
        {
            return false;
        }

        var secretPart = rest[(separator + 1)..];
        if (secretPart.Length is < MinSecretLength or > MaxSecretLength || secretPart.ContainsAnyExcept(SecretChars))
        {
            return false;
        }

        id = new Range(Prefix.Length, Prefix.Length + separator);
        secret = new Range(Prefix.Length + separator + 1, key.Length);
        return true;
    }

    public static bool IsId(ReadOnlySpan<char> id) =>
        id.Length is >= MinIdLength and <= MaxIdLength && !id.ContainsAnyExcept(IdChars);

    public static byte[] HashSecret(ReadOnlySpan<char> secret)
    {
        var hash = new byte[HashLength];
        HashSecret(secret, hash);
        return hash;
    }

    /// <summary>Whether <paramref name="secret"/> hashes to <paramref name="expectedHash"/>, compared in constant time.</summary>
    public static bool Verify(ReadOnlySpan<char> secret, ReadOnlySpan<byte> expectedHash)
    {
        Span<byte> actual = stackalloc byte[HashLength];
        HashSecret(secret, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expectedHash);
    }

    private static void HashSecret(ReadOnlySpan<char> secret, Span<byte> destination)
    {
        Span<byte> bytes = stackalloc byte[MaxSecretLength];
        var length = Encoding.ASCII.GetBytes(secret, bytes);
        SHA256.HashData(bytes[..length], destination);
    }

    private static readonly System.Buffers.SearchValues<char> IdChars = System.Buffers.SearchValues.Create(IdAlphabet);
    private static readonly System.Buffers.SearchValues<char> SecretChars = System.Buffers.SearchValues.Create(SecretAlphabet);
}
