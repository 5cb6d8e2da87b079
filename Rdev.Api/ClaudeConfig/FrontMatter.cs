using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlScalar = YamlDotNet.Core.Events.Scalar;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// YAML front matter at the top of a Markdown item: a first line <c>---</c>, YAML, then a line <c>---</c>. Parsed
/// with YamlDotNet's event parser into JSON (plain scalars resolved by the YAML core schema: null, booleans,
/// integers, floats; everything else a string), so the API can return it as an object.
/// </summary>
/// <remarks>
/// The content is untrusted, so the builder bounds what the parser's events can make it do: nesting depth (the
/// builder recurses) and the number of values, aliases included, so a "billion laughs" document fails fast.
/// </remarks>
public static partial class FrontMatter
{
    private const int MaxDepth = 32;
    private const int MaxValues = 10_000;
    private const string StringTag = "tag:yaml.org,2002:str";

    /// <summary>
    /// The front matter of <paramref name="content"/>: <c>Values</c> is null when there is none; <c>Error</c> says
    /// what is wrong (with the line and column in the whole file) when there is front matter that does not parse.
    /// </summary>
    public static (JsonObject? Values, string? Error) Parse(string content)
    {
        var text = content.StartsWith('\uFEFF') ? content[1..] : content;
        var first = LineEnd(text, 0);
        if (first.Length is null || text[..first.Start] != "---")
        {
            return (null, null);
        }

        var yamlStart = first.Start + first.Length.Value;
        var position = yamlStart;
        var line = 2;
        while (position < text.Length)
        {
            var end = LineEnd(text, position);
            if (text.AsSpan(position, end.Start - position) is "---")
            {
                return Build(text[yamlStart..position], closingLine: line);
            }

            if (end.Length is null)
            {
                break;
            }

            position = end.Start + end.Length.Value;
            line++;
        }

        return (null, "Front matter is not valid YAML at line 1, column 1: the '---' line that opens it is never closed by another '---' line.");
    }

    /// <summary>The string <c>description</c> of the front matter, or null.</summary>
    public static string? Description(string content) =>
        Parse(content).Values?["description"] is JsonValue value && value.TryGetValue<string>(out var description) ? description : null;

    private static (JsonObject? Values, string? Error) Build(string yaml, int closingLine)
    {
        var builder = new Builder();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            return (builder.Document(parser), null);
        }
        catch (YamlException e)
        {
            return (null, Located(e.Start, closingLine, Sentence(e.Message)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet's scanner throws InvalidOperationException on some malformed input: still a bad request,
            // located where the last event it could read ends.
            return (null, Located(parser.Current?.End ?? Mark.Empty, closingLine, "The YAML parser could not read past this point."));
        }
    }

    /// <summary>The YAML starts on the file's second line; a position past its end is the closing '---'.</summary>
    private static string Located(Mark mark, int closingLine, string reason)
    {
        var (line, column) = mark.Line + 1 > closingLine ? (closingLine, 1) : (mark.Line + 1, mark.Column);
        return string.Create(CultureInfo.InvariantCulture, $"Front matter is not valid YAML at line {line}, column {column}: {reason}");
    }

    private static string Sentence(string message)
    {
        var trimmed = WhitespaceRun().Replace(message, " ").Trim();
        return trimmed.EndsWith('.') ? trimmed : trimmed + ".";
    }

    /// <summary>Where the line starting at <paramref name="from"/> ends, and its terminator's length (null at the end of the text).</summary>
    private static (int Start, int? Length) LineEnd(string text, int from)
    {
        var newline = text.IndexOf('\n', from);
        if (newline < 0)
        {
            return (text.Length, null);
        }

        return newline > from && text[newline - 1] == '\r' ? (newline - 1, 2) : (newline, 1);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRun();

    private sealed class Builder
    {
        private readonly Dictionary<string, JsonNode?> anchors = new(StringComparer.Ordinal);
        private int values;

        public JsonObject Document(Parser parser)
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return [];
            }

            parser.Consume<DocumentStart>();
            var rootStart = parser.Current!.Start;
            var root = Node(parser, depth: 0);
            parser.Consume<DocumentEnd>();
            if (!parser.TryConsume<StreamEnd>(out _))
            {
                throw new YamlException(parser.Current!.Start, parser.Current.End, "The front matter holds more than one YAML document.");
            }

            return root switch
            {
                JsonObject mapping => mapping,
                null => [],
                _ => throw new YamlException(rootStart, rootStart, "The front matter must be a mapping of keys to values (key: value lines)."),
            };
        }

        private JsonNode? Node(IParser parser, int depth)
        {
            var current = parser.Current ?? throw new YamlException("The front matter ends unexpectedly.");
            if (depth > MaxDepth)
            {
                throw new YamlException(current.Start, current.End, $"The front matter is nested deeper than {MaxDepth} levels.");
            }

            if (++values > MaxValues)
            {
                throw new YamlException(current.Start, current.End, $"The front matter holds more than {MaxValues} values.");
            }

            JsonNode? node;
            AnchorName anchor;
            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new YamlException(alias.Start, alias.End, $"The alias *{alias.Value.Value} names no anchor.");
                }

                values += Count(target);
                return values > MaxValues
                    ? throw new YamlException(alias.Start, alias.End, $"The front matter holds more than {MaxValues} values.")
                    : target?.DeepClone();
            }

            if (parser.TryConsume<YamlScalar>(out var scalar))
            {
                anchor = scalar.Anchor;
                node = Resolve(scalar);
            }
            else if (parser.TryConsume<SequenceStart>(out var sequence))
            {
                anchor = sequence.Anchor;
                var array = new JsonArray();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    array.Add(Node(parser, depth + 1));
                }

                node = array;
            }
            else if (parser.TryConsume<MappingStart>(out var mapping))
            {
                anchor = mapping.Anchor;
                var obj = new JsonObject();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyEvent = parser.Current!;
                    if (!parser.TryConsume<YamlScalar>(out var key))
                    {
                        throw new YamlException(keyEvent.Start, keyEvent.End, "Front matter keys must be plain text.");
                    }

                    if (obj.ContainsKey(key.Value))
                    {
                        throw new YamlException(key.Start, key.End, $"The key '{key.Value}' appears twice.");
                    }

                    obj[key.Value] = Node(parser, depth + 1);
                }

                node = obj;
            }
            else
            {
                throw new YamlException(current.Start, current.End, "Unexpected YAML in the front matter.");
            }

            if (!anchor.IsEmpty)
            {
                anchors[anchor.Value] = node;
            }

            return node;
        }

        private static int Count(JsonNode? node) => node switch
        {
            JsonObject obj => 1 + obj.Sum(pair => Count(pair.Value)),
            JsonArray array => 1 + array.Sum(Count),
            _ => 1,
        };

        private static JsonValue? Resolve(YamlScalar scalar)
        {
            var value = scalar.Value;
            if (scalar.Style != ScalarStyle.Plain || (scalar.Tag.IsGlobal && scalar.Tag.Value == StringTag))
            {
                return JsonValue.Create(value);
            }

            return value switch
            {
                "" or "~" or "null" or "Null" or "NULL" => null,
                "true" or "True" or "TRUE" => JsonValue.Create(true),
                "false" or "False" or "FALSE" => JsonValue.Create(false),
                _ when IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                    => JsonValue.Create(integer),
                _ when FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    => JsonValue.Create(number),
                _ => JsonValue.Create(value),
            };
        }
    }

    [GeneratedRegex(@"^[-+]?[0-9]+\z")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex FloatPattern();
}
