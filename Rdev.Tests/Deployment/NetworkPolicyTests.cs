using System.Text.Json.Nodes;

namespace Rdev.Tests.Deployment;

/// <summary>
/// The production NetworkPolicies, evaluated the way Kubernetes does: the rules that apply to a pod are the union
/// of the rules of every policy whose podSelector selects it; a pod selected for a direction with no rule allowing
/// a flow gets none. Each rule is read as "peers ports", e.g. <c>pods{app=postgres,...} TCP/5432</c>.
/// </summary>
public sealed class NetworkPolicyTests
{
    private const string PartOf = "app.kubernetes.io/part-of=rdev";
    private static Rendered Production => Kustomize.Render(Kustomize.Production);

    private static IReadOnlyDictionary<string, string> Pod(string kind, string name) => Production.Single(kind, name).PodLabels();

    private static IReadOnlyDictionary<string, string> ProjectPod =>
        Kustomize.Render(Kustomize.Examples).Single("StatefulSet", "claudebox-pantheon").PodLabels();

    [KustomizeFact]
    public void EveryRdevPodIsDeniedByDefaultInBothDirections()
    {
        var denyAll = Production.OfKind("NetworkPolicy")
            .Where(p => p.At("spec.ingress") is null && p.At("spec.egress") is null)
            .Where(p => p.Strings("spec.policyTypes").Order().SequenceEqual(["Egress", "Ingress"]))
            .ToList();
        Assert.NotEmpty(denyAll);
        foreach (var workload in Production.Workloads)
        {
            Assert.True(denyAll.Any(p => p.At("spec.podSelector").Selects(workload.PodLabels())),
                $"no default-deny policy selects {workload.Describe()}");
        }
    }

    [KustomizeFact]
    public void NoPolicyTouchesTheProjectPodsThatShareTheNamespace()
    {
        Assert.Equal("true", ProjectPod["rdev.orchard9.ai/project"]);
        foreach (var policy in Production.OfKind("NetworkPolicy"))
        {
            Assert.False(policy.At("spec.podSelector").Selects(ProjectPod), $"NetworkPolicy {policy.Name()} selects project pods");
        }
    }

    [KustomizeFact]
    public void ApiAcceptsConnectionsOnlyFromTheIngressControllerNamespaceAndTheConsoleOnItsPort()
    {
        Assert.Equal(["namespace{kubernetes.io/metadata.name=ingress-nginx} TCP/8080", $"pods{{app=console,{PartOf}}} TCP/8080"],
            Rules(Pod("Deployment", "api"), "Ingress"));
    }

    [KustomizeFact]
    public void ConsoleAcceptsConnectionsOnlyFromTheIngressControllerAndReachesOnlyTheApiAndDns()
    {
        Assert.Equal(["namespace{kubernetes.io/metadata.name=ingress-nginx} TCP/8080"], Rules(Pod("Deployment", "console"), "Ingress"));
        Assert.Equal(
            ["namespace{kubernetes.io/metadata.name=kube-system} pods{k8s-app=kube-dns} UDP/53 TCP/53", $"pods{{app=api,{PartOf}}} TCP/8080"],
            Rules(Pod("Deployment", "console"), "Egress"));
    }

    [KustomizeFact]
    public void DiscoveryAcceptsNoConnections()
    {
        Assert.Empty(Rules(Pod("Deployment", "discovery"), "Ingress"));
    }

    [KustomizeFact]
    public void PostgresAcceptsConnectionsOnlyFromApiAndDiscovery()
    {
        Assert.Equal(
            [$"pods{{app=api,{PartOf}}} TCP/5432", $"pods{{app=discovery,{PartOf}}} TCP/5432"],
            Rules(Pod("StatefulSet", "postgres"), "Ingress"));
        var rule = PolicyRules(Pod("StatefulSet", "postgres"), "Ingress").Single();
        Assert.DoesNotContain(rule.Objects("from"), peer => peer.At("podSelector").Selects(ProjectPod));
    }

    [KustomizeFact]
    public void ApiAndDiscoveryReachOnlyPostgresDnsAndTheKubernetesApiServer()
    {
        string[] expected =
        [
            "ipBlock TCP/443 TCP/6443",
            "namespace{kubernetes.io/metadata.name=kube-system} pods{k8s-app=kube-dns} UDP/53 TCP/53",
            $"pods{{app=postgres,{PartOf}}} TCP/5432",
        ];
        foreach (var name in new[] { "api", "discovery" })
        {
            Assert.Equal(expected, Rules(Pod("Deployment", name), "Egress"));
        }
    }

    [KustomizeFact]
    public void NoEgressRuleReachesTheProjectPodsDirectlyBecauseExecGoesThroughTheApiServer()
    {
        foreach (var rule in PolicyRules(Pod("Deployment", "api"), "Egress"))
        {
            Assert.DoesNotContain(rule.Objects("to"), peer => peer["podSelector"] is not null && peer.At("podSelector").Selects(ProjectPod));
        }
    }

    [KustomizeFact]
    public void TheApiServerRuleIsASingleAddressBlockForOperatorsToSet()
    {
        var block = PolicyRules(Pod("Deployment", "api"), "Egress")
            .SelectMany(r => r.Objects("to")).Single(peer => peer["ipBlock"] is not null);
        Assert.True(System.Net.IPNetwork.TryParse(block.Str("ipBlock.cidr"), out var network), block.Str("ipBlock.cidr"));
        Assert.NotEqual(0, network.PrefixLength);
    }

    [KustomizeFact]
    public void PostgresOpensNoConnections()
    {
        Assert.Empty(Rules(Pod("StatefulSet", "postgres"), "Egress"));
    }

    [KustomizeFact]
    public void EveryRuleNamesItsPeersAndPorts()
    {
        foreach (var policy in Production.OfKind("NetworkPolicy"))
        {
            foreach (var (direction, peers) in new[] { ("ingress", "from"), ("egress", "to") })
            {
                foreach (var rule in policy.Objects($"spec.{direction}"))
                {
                    Assert.True(rule.Objects(peers).Any(), $"NetworkPolicy {policy.Name()} has an {direction} rule open to every peer");
                    Assert.True(rule.Objects("ports").Any(), $"NetworkPolicy {policy.Name()} has an {direction} rule open on every port");
                }
            }
        }
    }

    /// <summary>The rules of every policy that selects the pod for this direction, one string per peer, sorted.</summary>
    private static List<string> Rules(IReadOnlyDictionary<string, string> pod, string direction) =>
        [.. PolicyRules(pod, direction)
            .SelectMany(rule => rule.Objects(direction == "Ingress" ? "from" : "to").Select(peer => $"{Peer(peer)} {Ports(rule)}"))
            .Order(StringComparer.Ordinal)];

    private static IEnumerable<JsonObject> PolicyRules(IReadOnlyDictionary<string, string> pod, string direction) =>
        Production.OfKind("NetworkPolicy")
            .Where(p => p.At("spec.podSelector").Selects(pod) && p.Strings("spec.policyTypes").Contains(direction))
            .SelectMany(p => p.Objects(direction == "Ingress" ? "spec.ingress" : "spec.egress"));

    private static string Peer(JsonObject peer)
    {
        var parts = new List<string>();
        if (peer["namespaceSelector"] is not null)
        {
            parts.Add($"namespace{Selector(peer["namespaceSelector"])}");
        }

        if (peer["podSelector"] is not null)
        {
            parts.Add($"pods{Selector(peer["podSelector"])}");
        }

        if (peer["ipBlock"] is not null)
        {
            parts.Add("ipBlock");
        }

        return string.Join(" ", parts);
    }

    private static string Selector(JsonNode? selector)
    {
        Assert.Empty(selector.Objects("matchExpressions"));
        return "{" + string.Join(",", selector.Map("matchLabels").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
    }

    private static string Ports(JsonObject rule) =>
        string.Join(" ", rule.Objects("ports").Select(p => $"{p.Str("protocol") ?? "TCP"}/{p.Str("port")}"));
}
