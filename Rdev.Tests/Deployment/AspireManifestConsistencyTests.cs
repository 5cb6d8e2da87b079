using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Deployment;

/// <summary>
/// The committed Kubernetes base stays what aspirate would generate from aspire-manifest/aspire-manifest.json:
/// a folder and a workload per container or project, every environment variable set (secrets from Secrets, never
/// as literals), every binding exposed. Checked on the base and on the production overlay that is deployed.
/// </summary>
public sealed partial class AspireManifestConsistencyTests
{
    private static readonly string ManifestDirectory = Path.Combine(RepositoryRoot.Path, "aspire-manifest");
    private static readonly JsonObject Resources =
        JsonNode.Parse(File.ReadAllText(Path.Combine(ManifestDirectory, "aspire-manifest.json")))!["resources"]!.AsObject();

    public static TheoryData<string> Renders => [Kustomize.Base, Kustomize.Production];

    private static IEnumerable<(string Name, JsonObject Resource)> Workloads =>
        Resources.Where(r => r.Value.Str("type") is "container.v0" or "project.v0").Select(r => (r.Key, r.Value!.AsObject()));

    [Fact]
    public void TheManifestStillHasTheResourcesTheBaseWasWrittenFor()
    {
        // A new resource in the AppHost needs a folder here too; this names it instead of a vaguer failure below.
        Assert.Equal(["api", "bootstrap-admin-secret", "console", "discovery", "postgres", "postgres-password", "rdevdb"],
            Resources.Select(r => r.Key).Order(StringComparer.Ordinal));
    }

    [KustomizeFact]
    public void EveryContainerAndProjectHasItsOwnFolderAndWorkloadInTheBase()
    {
        var baseKustomization = File.ReadAllText(Path.Combine(Kustomize.K8sDirectory, "base", "kustomization.yaml"));
        foreach (var (name, resource) in Workloads)
        {
            Assert.True(File.Exists(Path.Combine(Kustomize.K8sDirectory, "base", name, "kustomization.yaml")), $"base/{name}/kustomization.yaml is missing");
            Assert.Matches($"(?m)^- {Regex.Escape(name)}$", baseKustomization);
            var kind = resource["volumes"] is JsonArray { Count: > 0 } ? "StatefulSet" : "Deployment";
            Assert.True(File.Exists(Path.Combine(Kustomize.K8sDirectory, "base", name, $"{kind.ToLowerInvariant()}.yaml")), $"base/{name} has no {kind}");
            Assert.True(File.Exists(Path.Combine(Kustomize.K8sDirectory, "base", name, "service.yaml")), $"base/{name}/service.yaml is missing");
            Kustomize.Render(Kustomize.Base).Single(kind, name);
        }
    }

    [KustomizeTheory]
    [MemberData(nameof(Renders))]
    public void EveryEnvironmentVariableInTheManifestIsSetOnItsContainer(string kustomization)
    {
        var rendered = Kustomize.Render(kustomization);
        foreach (var (name, resource) in Workloads)
        {
            var env = Environment(rendered, name);
            foreach (var (variable, value) in resource.Map("env"))
            {
                Assert.True(env.TryGetValue(variable, out var actual), $"{kustomization}: {name} does not set {variable}");
                if (ReferencesSecret(value))
                {
                    Assert.True(actual.StartsWith("secret:", StringComparison.Ordinal),
                        $"{kustomization}: {name} sets {variable} = {actual}, but the manifest's value ({value}) holds a secret: it must come from a Secret");
                }
                else if (!Placeholder().IsMatch(value))
                {
                    Assert.Equal($"{variable}={value}", $"{variable}={actual}");
                }
            }
        }
    }

    [KustomizeTheory]
    [MemberData(nameof(Renders))]
    public void EveryParameterAndConnectionStringReachesTheServicesThroughASecret(string kustomization)
    {
        var rendered = Kustomize.Render(kustomization);
        var secretVariables = Workloads
            .SelectMany(w => w.Resource.Map("env").Where(e => ReferencesSecret(e.Value)).Select(e => (w.Name, e.Key, e.Value)))
            .ToList();
        foreach (var other in Resources.Where(r => r.Value.Str("type") is "parameter.v0" or "value.v0").Select(r => r.Key))
        {
            var users = secretVariables.Where(v => References(v.Value).Contains(other) || References(v.Value).Any(r => DependsOn(r, other))).ToList();
            Assert.True(users.Count > 0, $"{other} in aspire-manifest.json reaches no container: account for it in the base");
            foreach (var (workload, variable, _) in users)
            {
                Assert.StartsWith("secret:", Environment(rendered, workload)[variable]);
            }
        }
    }

    [KustomizeTheory]
    [MemberData(nameof(Renders))]
    public void EveryServedBindingIsExposedByTheResourcesService(string kustomization)
    {
        var rendered = Kustomize.Render(kustomization);
        foreach (var (name, resource) in Workloads)
        {
            var container = Container(rendered, name);
            var service = rendered.Single("Service", name);
            foreach (var (bindingName, binding) in Bindings(resource))
            {
                var what = $"{kustomization}: {name} binding {bindingName}";
                if (binding.Str("scheme") == "https" && binding["targetPort"] is null)
                {
                    // No certificate in the pod: TLS ends at the Ingress, so nothing may pretend to serve HTTPS.
                    Assert.DoesNotContain(service.Objects("spec.ports"), p => p.Str("name") == "https");
                    Assert.False(Environment(rendered, name).ContainsKey("HTTPS_PORTS"), $"{what}: HTTPS_PORTS is set but there is no certificate");
                    continue;
                }

                var targetPort = TargetPort(name, bindingName, binding);
                Assert.Contains(container.Objects("ports"), p => p.Str("containerPort") == targetPort.ToString());
                var port = service.Objects("spec.ports").SingleOrDefault(p => ResolveTargetPort(container, p) == targetPort);
                Assert.True(port is not null, $"{what}: Service {name} exposes no port with target {targetPort}");
                Assert.Equal(binding.Str("port") ?? targetPort.ToString(), port!.Str("port"));
                Assert.Equal(binding.Str("protocol")?.ToUpperInvariant() ?? "TCP", port.Str("protocol") ?? "TCP");
            }
        }
    }

    [KustomizeFact]
    public void TheApisHttpPortsIsTheContainerPortItsServiceTargets()
    {
        foreach (var (name, resource) in Workloads.Where(w => w.Resource.Map("env").ContainsKey("HTTP_PORTS")))
        {
            var binding = Placeholder().Match(resource.Map("env")["HTTP_PORTS"]).Groups[1].Value.Split('.');
            Assert.Equal((name, "bindings", "targetPort"), (binding[0], binding[1], binding[3]));
            var expected = TargetPort(name, binding[2], Bindings(resource)[binding[2]]).ToString();
            Assert.Equal(expected, Environment(Kustomize.Render(Kustomize.Production), name)["HTTP_PORTS"]);
        }
    }

    [KustomizeFact]
    public void ExternalBindingsLeaveTheClusterThroughTheProductionIngress()
    {
        var production = Kustomize.Render(Kustomize.Production);
        foreach (var (name, resource) in Workloads)
        {
            var external = Bindings(resource).Where(b => b.Value.Str("external") == "true").Select(b => b.Key).ToList();
            var backends = production.OfKind("Ingress")
                .SelectMany(i => i.Objects("spec.rules")).SelectMany(r => r.Objects("http.paths"))
                .Where(p => p.Str("backend.service.name") == name).ToList();
            if (external.Count == 0)
            {
                Assert.Empty(backends);
                continue;
            }

            var backend = Assert.Single(backends);
            Assert.Equal("http", backend.Str("backend.service.port.name"));
            if (external.Contains("https"))
            {
                Assert.Contains(production.OfKind("Ingress"), i => i.Objects("spec.tls").Any());
            }
        }
    }

    [KustomizeTheory]
    [MemberData(nameof(Renders))]
    public void ImagesAreTheManifestsContainerImageAndTheCsprojsContainerRepository(string kustomization)
    {
        foreach (var (name, resource) in Workloads)
        {
            var image = Container(Kustomize.Render(kustomization), name).Str("image")!;
            if (resource.Str("type") == "container.v0")
            {
                Assert.Equal(resource.Str("image"), image);
                continue;
            }

            var csproj = XDocument.Load(Path.GetFullPath(Path.Combine(ManifestDirectory, resource.Str("path")!)));
            var repository = csproj.Descendants("ContainerRepository").Single().Value;
            var withoutTag = image.Split(':')[0];
            Assert.True(withoutTag == repository || withoutTag.EndsWith("/" + repository, StringComparison.Ordinal),
                $"{kustomization}: {name} runs {image}, but dotnet publish /t:PublishContainer names it {repository}");
        }
    }

    [KustomizeFact]
    public void ContainerVolumesAreClaimedAndMountedWhereTheManifestSays()
    {
        var rendered = Kustomize.Render(Kustomize.Production);
        foreach (var (name, resource) in Workloads)
        {
            foreach (var volume in resource.Objects("volumes"))
            {
                var statefulSet = rendered.Single("StatefulSet", name);
                Assert.Contains(statefulSet.Objects("spec.volumeClaimTemplates"), t => t.Name() == volume.Str("name"));
                Assert.Contains(Container(rendered, name).Objects("volumeMounts"),
                    m => m.Str("name") == volume.Str("name") && m.Str("mountPath") == volume.Str("target"));
            }
        }
    }

    /// <summary>name → literal value, or "secret:&lt;name&gt;/&lt;key&gt;" for secretKeyRef; envFrom ConfigMaps resolved.</summary>
    private static Dictionary<string, string> Environment(Rendered rendered, string workload)
    {
        var container = Container(rendered, workload);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.Objects("envFrom"))
        {
            Assert.True(source["secretRef"] is null, $"{workload}: envFrom secretRef hides which variables it sets; use env with secretKeyRef");
            foreach (var (key, value) in rendered.Single("ConfigMap", source.Str("configMapRef.name")!).Map("data"))
            {
                env[key] = value;
            }
        }

        var names = container.Objects("env").Select(v => v.Str("name")).ToList();
        Assert.True(names.Count == names.Distinct().Count(), $"{workload} sets an environment variable twice: {string.Join(", ", names)}");
        foreach (var variable in container.Objects("env"))
        {
            env[variable.Str("name")!] = variable.At("valueFrom.secretKeyRef") is { } secret
                ? $"secret:{secret.Str("name")}/{secret.Str("key")}"
                : variable.At("valueFrom") is { } from ? $"from:{from.ToJsonString()}" : variable.Str("value") ?? "";
        }

        return env;
    }

    private static JsonObject Container(Rendered rendered, string workload) =>
        rendered.Workloads.Single(w => w.Name() == workload).Containers().Single(c => c.Str("name") == workload);

    private static Dictionary<string, JsonObject> Bindings(JsonObject resource) =>
        (resource["bindings"] as JsonObject)?.ToDictionary(b => b.Key, b => b.Value!.AsObject()) ?? [];

    /// <summary>The binding's targetPort; a project's http binding without one gets aspirate's (and .NET's) 8080.</summary>
    private static int TargetPort(string resource, string bindingName, JsonObject binding) =>
        binding.Str("targetPort") is { } port ? int.Parse(port)
        : Resources[resource].Str("type") == "project.v0" && bindingName == "http" ? 8080
        : throw new Xunit.Sdk.XunitException($"{resource} binding {bindingName} has no targetPort and no default");

    private static int? ResolveTargetPort(JsonObject container, JsonObject servicePort)
    {
        var target = servicePort.Str("targetPort") ?? servicePort.Str("port");
        if (int.TryParse(target, out var number))
        {
            return number;
        }

        var named = container.Objects("ports").SingleOrDefault(p => p.Str("name") == target)?.Str("containerPort");
        return named is null ? null : int.Parse(named);
    }

    private static IEnumerable<string> References(string value) =>
        Placeholder().Matches(value).Select(m => m.Groups[1].Value.Split('.')[0]);

    /// <summary>Whether a manifest value references a secret parameter, directly or through a connection string.</summary>
    private static bool ReferencesSecret(string value) =>
        Placeholder().Matches(value).Any(m => m.Groups[1].Value.EndsWith(".connectionString", StringComparison.Ordinal)
            || Resources[m.Groups[1].Value.Split('.')[0]].Str("inputs.value.secret") == "true");

    /// <summary>Whether resource <paramref name="from"/>'s connection string references <paramref name="target"/>, transitively.</summary>
    private static bool DependsOn(string from, string target) =>
        Resources[from].Str("connectionString") is { } cs
        && References(cs).Where(r => r != from).Any(r => r == target || DependsOn(r, target));

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex Placeholder();
}
