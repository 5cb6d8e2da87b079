using System.Globalization;
using System.Text;

namespace Rdev.Api.Commands;

/// <summary>
/// Makes text from a process storable. PostgreSQL text and jsonb refuse NUL, jsonb refuses the escape <c>\u0000</c>,
/// and Npgsql cannot encode a lone surrogate; one such character in a command's output used to make its final write
/// fail for good. NUL and lone surrogates, raw or JSON-escaped, become U+FFFD, and the caller counts them.
/// </summary>
public static class StorableText
{
    public const char Replacement = '\uFFFD';

    /// <summary>The text with NUL and lone surrogates replaced; <paramref name="replaced"/> grows by their number.</summary>
    public static string Clean(string text, ref long replaced)
    {
        var first = IndexOfUnstorable(text, nulToo: true);
        if (first < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Append(c).Append(text[++i]);
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                result.Append(Replacement);
                replaced++;
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }

    public static string? CleanOrNull(string? text, ref long replaced) => text is null ? null : Clean(text, ref replaced);

    /// <summary>
    /// Replaces the escapes <c>\u0000</c> and lone surrogate escapes (<c>\ud800</c> not followed by a low one) in JSON
    /// text with <c>\ufffd</c>, so that the parsed strings are storable and readable (System.Text.Json refuses to
    /// read a lone surrogate as a string). An escaped backslash is skipped whole, so <c>\\u0000</c> stays as it is.
    /// </summary>
    public static string CleanJsonEscapes(string json, ref long replaced)
    {
        if (!json.Contains("\\u", StringComparison.Ordinal))
        {
            return json;
        }

        var result = new StringBuilder(json.Length);
        for (var i = 0; i < json.Length; i++)
        {
            if (json[i] != '\\' || i + 1 >= json.Length)
            {
                result.Append(json[i]);
                continue;
            }

            if (!TryReadUnit(json, i, out var unit))
            {
                // Another escape (\n, \", \\ ...): copied whole so its second character is not read as a new escape.
                result.Append(json, i, 2);
                i++;
                continue;
            }

            if (char.IsHighSurrogate(unit) && TryReadUnit(json, i + 6, out var low) && char.IsLowSurrogate(low))
            {
                result.Append(json, i, 12);
                i += 11;
            }
            else if (unit == '\0' || char.IsSurrogate(unit))
            {
                result.Append("\\ufffd");
                replaced++;
                i += 5;
            }
            else
            {
                result.Append(json, i, 6);
                i += 5;
            }
        }

        return result.ToString();
    }

    /// <summary>Whether <paramref name="text"/> holds a UTF-16 surrogate that is not half of a pair (not valid Unicode).</summary>
    public static bool HasLoneSurrogate(string text) => IndexOfUnstorable(text, nulToo: false) >= 0;

    private static int IndexOfUnstorable(string text, bool nulToo)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if ((nulToo && c == '\0') || char.IsSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    // A \uXXXX escape at index, as its UTF-16 code unit.
    private static bool TryReadUnit(string json, int index, out char unit)
    {
        unit = '\0';
        if (index + 6 > json.Length || json[index] != '\\' || json[index + 1] != 'u'
            || !ushort.TryParse(json.AsSpan(index + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        unit = (char)value;
        return true;
    }
}

/// <summary>Decodes invalid UTF-8 as U+FFFD, like the default, and counts each replacement.</summary>
public sealed class CountingDecoderFallback : DecoderFallback
{
    public long Count { get; private set; }

    public override int MaxCharCount => 1;

    public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

    // One U+FFFD per invalid sequence: index is the position in that one-character replacement, -1 before it.
    private sealed class Buffer(CountingDecoderFallback owner) : DecoderFallbackBuffer
    {
        private int length;
        private int index = -1;

        public override int Remaining => Math.Max(0, length - index - 1);

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            owner.Count++;
            length = 1;
            this.index = -1;
            return true;
        }

        public override char GetNextChar()
        {
            if (index + 1 >= length)
            {
                return '\0';
            }

            index++;
            return StorableText.Replacement;
        }

        public override bool MovePrevious()
        {
            if (index < 0)
            {
                return false;
            }

            index--;
            return true;
        }

        public override void Reset()
        {
            length = 0;
            index = -1;
        }
    }
}
