using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Rdev.Tests.Deployment;

/// <summary>A fact that is skipped, with the reason shown, when kubectl (which renders kustomizations) is not on PATH.</summary>
public sealed class KustomizeFactAttribute : FactAttribute
{
    public KustomizeFactAttribute()
    {
        if (Kubectl.Executable is null)
        {
            Skip = NoKubectl;
        }
    }

    public const string NoKubectl = "kubectl is not on PATH: install kubectl 1.32 to render aspire-manifest/k8s with kubectl kustomize";
}

/// <summary>A theory that is skipped, with the reason shown, when kubectl is not on PATH.</summary>
public sealed class KustomizeTheoryAttribute : TheoryAttribute
{
    public KustomizeTheoryAttribute()
    {
        if (Kubectl.Executable is null)
        {
            Skip = KustomizeFactAttribute.NoKubectl;
        }
    }
}

/// <summary>Renders a kustomization under aspire-manifest/k8s with <c>kubectl kustomize</c> (offline), once per run.</summary>
public static class Kustomize
{
    public const string Base = "base";
    public const string Production = "overlays/production";
    public const string Examples = "examples";

    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new();

    public static string K8sDirectory { get; } = Path.Combine(RepositoryRoot.Path, "aspire-manifest", "k8s");

    public static Rendered Render(string kustomization) =>
        Cache.GetOrAdd(kustomization, k => new Lazy<Rendered>(() => RenderNow(k))).Value;

    private static Rendered RenderNow(string kustomization)
    {
        var info = new ProcessStartInfo(Kubectl.Executable ?? throw new InvalidOperationException("kubectl is not on PATH"))
        {
            ArgumentList = { "kustomize", Path.Combine(K8sDirectory, kustomization) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Rendering never talks to a cluster; make sure a developer's kubeconfig cannot matter.
        info.Environment["KUBECONFIG"] = "/dev/null";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {kustomization} did not finish within 30 s");
        }

        Assert.True(process.ExitCode == 0, $"kubectl kustomize {kustomization} failed: {stderr.Result}");
        return new Rendered(ParseDocuments(stdout.Result));
    }

    /// <summary>Every document of a multi-document YAML stream, as JSON (scalars stay strings, as YAML wrote them).</summary>
    public static IReadOnlyList<JsonObject> ParseDocuments(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var documents = new List<JsonObject>();
        while (parser.Accept<DocumentStart>(out _))
        {
            // Deserialize consumes the document's start and end.
            if (ToJson(deserializer.Deserialize<object?>(parser)) is JsonObject document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IDictionary<object, object?> map => new JsonObject(map.Select(e => KeyValuePair.Create(e.Key.ToString()!, ToJson(e.Value)))),
        IList<object?> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonValue.Create(value.ToString()),
    };
}

/// <summary>The objects one kustomization renders to.</summary>
public sealed class Rendered(IReadOnlyList<JsonObject> objects)
{
    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => o.Str("kind") == kind);

    public JsonObject Single(string kind, string name) =>
        OfKind(kind).SingleOrDefault(o => o.Name() == name)
        ?? throw new Xunit.Sdk.XunitException($"No {kind} named {name} was rendered; have: " +
            string.Join(", ", Objects.Select(o => $"{o.Str("kind")}/{o.Name()}")));

    /// <summary>Deployments and StatefulSets.</summary>
    public IEnumerable<JsonObject> Workloads => Objects.Where(o => o.Str("kind") is "Deployment" or "StatefulSet");
}
