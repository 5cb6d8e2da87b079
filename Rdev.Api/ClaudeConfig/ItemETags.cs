using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;
using Rdev.Api.Execution;

namespace Rdev.Api.ClaudeConfig;

/// <summary>Strong ETags of items and the If-Match checks made with them.</summary>
public static class ItemETags
{
    /// <summary>The SHA-256 of the file's bytes, quoted: equal bytes, equal tag, on every replica and runtime.</summary>
    public static string Of(ReadOnlySpan<byte> content) => $"\"{Convert.ToHexStringLower(SHA256.HashData(content))}\"";

    /// <summary>The entity tags of an If-Match header; null when it does not parse.</summary>
    public static IList<EntityTagHeaderValue>? ParseIfMatch(string header) =>
        EntityTagHeaderValue.TryParseStrictList([header], out var tags) && tags.Count > 0 ? tags : null;

    /// <summary>Strong comparison (RFC 9110 13.1.1): a weak tag never matches; <c>*</c> matches any existing item.</summary>
    public static bool Matches(IList<EntityTagHeaderValue> expected, WorkspaceFile current)
    {
        if (expected.Any(tag => tag.Equals(EntityTagHeaderValue.Any)))
        {
            return true;
        }

        // A file too large to read whole has no ETag this API handed out.
        var etag = current.Truncated ? null : Of(current.Content);
        return etag is not null && expected.Any(tag => !tag.IsWeak && tag.Tag.Equals(etag, StringComparison.Ordinal));
    }
}
