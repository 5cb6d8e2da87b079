using System.Text.RegularExpressions;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// A parsed <c>labelSelector</c>: comma-separated requirements, all of which must hold.
/// Supports <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>.
/// As in apimachinery, <c>k!=v</c> and <c>notin</c> also match objects without the key.
/// </summary>
public sealed partial class LabelSelector
{
    private readonly IReadOnlyList<Func<IDictionary<string, string>, bool>> requirements;

    private LabelSelector(IReadOnlyList<Func<IDictionary<string, string>, bool>> requirements) => this.requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    [GeneratedRegex(@"^\s*!\s*(?<key>[^\s=!(),]+)\s*$")]
    private static partial Regex NotExists();

    [GeneratedRegex(@"^\s*(?<key>[^\s=!(),]+)\s+(?<op>in|notin)\s*\((?<values>[^()]*)\)\s*$")]
    private static partial Regex SetBased();

    [GeneratedRegex(@"^\s*(?<key>[^\s=!(),]+)\s*(?<op>==|=|!=)\s*(?<value>[^\s=!(),]*)\s*$")]
    private static partial Regex EqualityBased();

    [GeneratedRegex(@"^\s*(?<key>[^\s=!(),]+)\s*$")]
    private static partial Regex Exists();

    /// <summary>Parses a selector; throws <see cref="KubeStatusException"/> (400 BadRequest) like the API server.</summary>
    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }
        var parsed = new List<Func<IDictionary<string, string>, bool>>();
        foreach (var part in SplitTopLevel(selector))
        {
            parsed.Add(ParseRequirement(part));
        }
        return new LabelSelector(parsed);
    }

    public bool Matches(IDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        return requirements.All(r => r(labels));
    }

    private static Func<IDictionary<string, string>, bool> ParseRequirement(string text)
    {
        Match m;
        if ((m = NotExists().Match(text)).Success)
        {
            var key = CheckKey(m.Groups["key"].Value);
            return labels => !labels.ContainsKey(key);
        }
        if ((m = SetBased().Match(text)).Success)
        {
            var key = CheckKey(m.Groups["key"].Value);
            var values = m.Groups["values"].Value.Split(',').Select(v => CheckValue(v.Trim())).ToHashSet();
            return m.Groups["op"].Value == "in"
                ? labels => labels.TryGetValue(key, out var v) && values.Contains(v)
                : labels => !labels.TryGetValue(key, out var v) || !values.Contains(v);
        }
        if ((m = EqualityBased().Match(text)).Success)
        {
            var key = CheckKey(m.Groups["key"].Value);
            var value = CheckValue(m.Groups["value"].Value);
            return m.Groups["op"].Value == "!="
                ? labels => !labels.TryGetValue(key, out var v) || v != value
                : labels => labels.TryGetValue(key, out var v) && v == value;
        }
        if ((m = Exists().Match(text)).Success)
        {
            var key = CheckKey(m.Groups["key"].Value);
            return labels => labels.ContainsKey(key);
        }
        throw new KubeStatusException(KubeStatus.BadRequest($"unable to parse requirement: found '{text.Trim()}', expected: identifier"));
    }

    private static string CheckKey(string key)
    {
        var errors = KubeValidation.IsQualifiedName(key);
        return errors.Count == 0 ? key : throw new KubeStatusException(KubeStatus.BadRequest(
            $"unable to parse requirement: <nil>: Invalid value: \"{key}\": {string.Join("; ", errors)}"));
    }

    private static string CheckValue(string value)
    {
        var errors = KubeValidation.IsValidLabelValue(value);
        return errors.Count == 0 ? value : throw new KubeStatusException(KubeStatus.BadRequest(
            $"unable to parse requirement: values[0][{value}]: Invalid value: \"{value}\": {string.Join("; ", errors)}"));
    }

    /// <summary>Splits on commas that are not inside the parentheses of an in/notin set.</summary>
    internal static IEnumerable<string> SplitTopLevel(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            depth += selector[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (selector[i] == ',' && depth == 0)
            {
                yield return selector[start..i];
                start = i + 1;
            }
        }
        yield return selector[start..];
    }
}

/// <summary>
/// A parsed <c>fieldSelector</c>: <c>field=value</c>, <c>field==value</c>, <c>field!=value</c>, comma AND.
/// Fields: <c>metadata.name</c>, <c>metadata.namespace</c>, and for pods <c>status.phase</c>, <c>spec.nodeName</c>.
/// </summary>
public sealed class FieldSelector
{
    private readonly IReadOnlyList<(string Field, string Value, bool Equal)> requirements;

    private FieldSelector(IReadOnlyList<(string Field, string Value, bool Equal)> requirements) => this.requirements = requirements;

    public static FieldSelector Everything { get; } = new([]);

    public static FieldSelector Parse(string? selector, string kind)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }
        var parsed = new List<(string, string, bool)>();
        foreach (var part in selector.Split(','))
        {
            var (op, index) = part.IndexOf("!=", StringComparison.Ordinal) is var ne and >= 0 ? ("!=", ne)
                : part.IndexOf("==", StringComparison.Ordinal) is var ee and >= 0 ? ("==", ee)
                : ("=", part.IndexOf('='));
            if (index < 0)
            {
                throw new KubeStatusException(KubeStatus.BadRequest($"invalid selector: '{selector}'; can't understand '{part}'"));
            }
            var field = part[..index].Trim();
            if (!IsSupported(field, kind))
            {
                throw new KubeStatusException(KubeStatus.BadRequest($"field label not supported: {field}"));
            }
            parsed.Add((field, part[(index + op.Length)..].Trim(), op != "!="));
        }
        return new FieldSelector(parsed);
    }

    public bool Matches(object obj) => requirements.All(r => (FieldValue(obj, r.Field) == r.Value) == r.Equal);

    private static bool IsSupported(string field, string kind) =>
        field is "metadata.name" or "metadata.namespace" || (kind == "Pod" && field is "status.phase" or "spec.nodeName");

    private static string FieldValue(object obj, string field)
    {
        var metadata = obj is V1Pod p ? p.Metadata : ((V1ConfigMap)obj).Metadata;
        return field switch
        {
            "metadata.name" => metadata.Name ?? "",
            "metadata.namespace" => metadata.NamespaceProperty ?? "",
            "status.phase" => (obj as V1Pod)?.Status?.Phase ?? "",
            "spec.nodeName" => (obj as V1Pod)?.Spec?.NodeName ?? "",
            _ => "",
        };
    }
}
