using System.Text.RegularExpressions;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// The subset of apimachinery validation that matters to rdev, with the real error texts:
/// object names, label keys and values, annotation keys, ConfigMap data keys, pod containers.
/// </summary>
public static partial class KubeValidation
{
    private const string Dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    private const string Dns1123SubdomainFmt = @"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    private const string Dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    private const string Dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string QualifiedNameMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private const string QualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string LabelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private const string LabelValueFmt = "(" + QualifiedNameFmt + ")?";
    private const string ConfigMapKeyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
    private const string ConfigMapKeyFmt = "[-._a-zA-Z0-9]+";

    [GeneratedRegex("^" + Dns1123SubdomainFmt + "$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^" + Dns1123LabelFmt + "$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^" + QualifiedNameFmt + "$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^" + LabelValueFmt + "$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^" + ConfigMapKeyFmt + "$")]
    private static partial Regex ConfigMapKey();

    public static IReadOnlyList<string> IsDns1123Subdomain(string value)
    {
        var errors = new List<string>();
        if (value.Length > 253)
        {
            errors.Add("must be no more than 253 characters");
        }
        if (!Dns1123Subdomain().IsMatch(value))
        {
            errors.Add(RegexError(Dns1123SubdomainMsg, Dns1123SubdomainFmt, "example.com"));
        }
        return errors;
    }

    public static IReadOnlyList<string> IsDns1123Label(string value)
    {
        var errors = new List<string>();
        if (value.Length > 63)
        {
            errors.Add("must be no more than 63 characters");
        }
        if (!Dns1123Label().IsMatch(value))
        {
            errors.Add(RegexError(Dns1123LabelMsg, Dns1123LabelFmt, "my-name", "123-abc"));
        }
        return errors;
    }

    /// <summary>A label or annotation key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters.</summary>
    public static IReadOnlyList<string> IsQualifiedName(string value)
    {
        var errors = new List<string>();
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                name = parts[1];
                if (parts[0].Length == 0)
                {
                    errors.Add("prefix part must be non-empty");
                }
                else
                {
                    errors.AddRange(IsDns1123Subdomain(parts[0]).Select(e => "prefix part " + e));
                }
                break;
            default:
                return ["a qualified name " + RegexError(QualifiedNameMsg, QualifiedNameFmt, "MyName", "my.name", "123-abc") +
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
        }
        if (name.Length == 0)
        {
            errors.Add("name part must be non-empty");
        }
        else if (name.Length > 63)
        {
            errors.Add("name part must be no more than 63 characters");
        }
        if (!QualifiedName().IsMatch(name))
        {
            errors.Add("name part " + RegexError(QualifiedNameMsg, QualifiedNameFmt, "MyName", "my.name", "123-abc"));
        }
        return errors;
    }

    public static IReadOnlyList<string> IsValidLabelValue(string value)
    {
        var errors = new List<string>();
        if (value.Length > 63)
        {
            errors.Add("must be no more than 63 characters");
        }
        if (!LabelValue().IsMatch(value))
        {
            errors.Add(RegexError(LabelValueMsg, LabelValueFmt, "MyValue", "my_value", "12345"));
        }
        return errors;
    }

    public static IReadOnlyList<string> IsConfigMapKey(string value)
    {
        var errors = new List<string>();
        if (value.Length > 253)
        {
            errors.Add("must be no more than 253 characters");
        }
        if (!ConfigMapKey().IsMatch(value))
        {
            errors.Add(RegexError(ConfigMapKeyMsg, ConfigMapKeyFmt, "key.name", "KEY_NAME", "key-name"));
        }
        if (value == ".")
        {
            errors.Add("must not be '.'");
        }
        else if (value == "..")
        {
            errors.Add("must not be '..'");
        }
        else if (value.StartsWith("..", StringComparison.Ordinal))
        {
            errors.Add("must not start with '..'");
        }
        return errors;
    }

    /// <summary>Validates what the API server validates on create and update; an empty list means valid.</summary>
    public static IReadOnlyList<V1StatusCause> ValidateObject(object obj)
    {
        var causes = new List<V1StatusCause>();
        var metadata = obj switch
        {
            V1Pod p => p.Metadata,
            V1ConfigMap c => c.Metadata,
            _ => throw new ArgumentException($"unsupported type {obj.GetType().Name}", nameof(obj)),
        };
        ValidateMetadata(metadata, causes);
        if (obj is V1Pod pod)
        {
            ValidatePodSpec(pod.Spec, causes);
        }
        else if (obj is V1ConfigMap configMap)
        {
            ValidateConfigMapData(configMap, causes);
        }
        return causes;
    }

    private static void ValidateMetadata(V1ObjectMeta? metadata, List<V1StatusCause> causes)
    {
        if (string.IsNullOrEmpty(metadata?.Name))
        {
            causes.Add(Required("metadata.name", "name or generateName is required"));
            return;
        }
        foreach (var error in IsDns1123Subdomain(metadata.Name))
        {
            causes.Add(Invalid("metadata.name", metadata.Name, error));
        }
        foreach (var (key, value) in metadata.Labels ?? new Dictionary<string, string>())
        {
            causes.AddRange(IsQualifiedName(key).Select(e => Invalid("metadata.labels", key, e)));
            causes.AddRange(IsValidLabelValue(value ?? "").Select(e => Invalid("metadata.labels", value ?? "", e)));
        }
        foreach (var key in (metadata.Annotations ?? new Dictionary<string, string>()).Keys)
        {
            causes.AddRange(IsQualifiedName(key.ToLowerInvariant()).Select(e => Invalid("metadata.annotations", key, e)));
        }
    }

    private static void ValidatePodSpec(V1PodSpec? spec, List<V1StatusCause> causes)
    {
        if (spec?.Containers is not { Count: > 0 } containers)
        {
            causes.Add(Required("spec.containers", null));
            return;
        }
        var seen = new HashSet<string>();
        for (var i = 0; i < containers.Count; i++)
        {
            var field = $"spec.containers[{i}]";
            var name = containers[i].Name;
            if (string.IsNullOrEmpty(name))
            {
                causes.Add(Required(field + ".name", null));
            }
            else
            {
                causes.AddRange(IsDns1123Label(name).Select(e => Invalid(field + ".name", name, e)));
                if (!seen.Add(name))
                {
                    causes.Add(new V1StatusCause { Reason = "FieldValueDuplicate", Field = field + ".name", Message = $"Duplicate value: \"{name}\"" });
                }
            }
            if (string.IsNullOrEmpty(containers[i].Image))
            {
                causes.Add(Required(field + ".image", null));
            }
        }
    }

    private static void ValidateConfigMapData(V1ConfigMap configMap, List<V1StatusCause> causes)
    {
        var keys = (configMap.Data?.Keys ?? Enumerable.Empty<string>()).Select(k => (k, "data"))
            .Concat((configMap.BinaryData?.Keys ?? Enumerable.Empty<string>()).Select(k => (k, "binaryData")));
        var seen = new HashSet<string>();
        foreach (var (key, section) in keys)
        {
            var field = $"{section}[{key}]";
            causes.AddRange(IsConfigMapKey(key).Select(e => Invalid(field, key, e)));
            if (!seen.Add(key))
            {
                causes.Add(Invalid(field, key, "duplicate of key present in data"));
            }
        }
    }

    private static V1StatusCause Invalid(string field, string value, string message) => new()
    {
        Reason = "FieldValueInvalid",
        Field = field,
        Message = $"Invalid value: \"{value}\": {message}",
    };

    private static V1StatusCause Required(string field, string? detail) => new()
    {
        Reason = "FieldValueRequired",
        Field = field,
        Message = detail is null ? "Required value" : $"Required value: {detail}",
    };

    private static string RegexError(string message, string format, params string[] examples)
    {
        var quoted = string.Concat(examples.Select((e, i) => (i > 0 ? " or " : "") + $"'{e}', "));
        return $"{message} (e.g. {quoted}regex used for validation is '{format}')";
    }
}
