using System.Text.Json.Nodes;

namespace Rdev.Tests.Deployment;

/// <summary>Reading rendered Kubernetes objects: dotted paths, pod templates, label maps and label selectors.</summary>
public static class K8sJson
{
    public static JsonNode? At(this JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        return node;
    }

    public static string? Str(this JsonNode? node, string path) => node.At(path)?.ToString();

    public static string? Name(this JsonNode? node) => node.Str("metadata.name");

    public static IEnumerable<JsonObject> Objects(this JsonNode? node, string path) =>
        (node.At(path) as JsonArray)?.OfType<JsonObject>() ?? [];

    public static IEnumerable<string> Strings(this JsonNode? node, string path) =>
        (node.At(path) as JsonArray)?.Select(n => n?.ToString() ?? "") ?? [];

    public static IReadOnlyDictionary<string, string> Map(this JsonNode? node, string path) =>
        (node.At(path) as JsonObject)?.ToDictionary(e => e.Key, e => e.Value?.ToString() ?? "") ?? [];

    public static JsonObject PodSpec(this JsonObject workload) =>
        workload.At("spec.template.spec") as JsonObject
        ?? throw new Xunit.Sdk.XunitException($"{workload.Str("kind")}/{workload.Name()} has no pod template");

    public static IReadOnlyDictionary<string, string> PodLabels(this JsonObject workload) => workload.Map("spec.template.metadata.labels");

    /// <summary>Containers and init containers of a workload's pod template.</summary>
    public static IEnumerable<JsonObject> Containers(this JsonObject workload) =>
        workload.PodSpec().Objects("containers").Concat(workload.PodSpec().Objects("initContainers"));

    public static string Describe(this JsonObject workload, JsonObject? container = null) =>
        $"{workload.Str("kind")}/{workload.Name()}" + (container is null ? "" : $" container {container.Str("name")}");

    /// <summary>Whether a metav1.LabelSelector selects these labels; an empty selector selects everything.</summary>
    public static bool Selects(this JsonNode? selector, IReadOnlyDictionary<string, string> labels)
    {
        var matchLabels = selector.Map("matchLabels");
        if (matchLabels.Any(l => !labels.TryGetValue(l.Key, out var value) || value != l.Value))
        {
            return false;
        }

        return selector.Objects("matchExpressions").All(e =>
        {
            var key = e.Str("key")!;
            var values = e.Strings("values").ToHashSet();
            var has = labels.TryGetValue(key, out var value);
            return e.Str("operator") switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                var op => throw new Xunit.Sdk.XunitException($"unknown selector operator {op}"),
            };
        });
    }
}
