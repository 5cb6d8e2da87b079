using System.Text.Json.Nodes;
using Rdev.Discovery;

namespace Rdev.Tests.Deployment;

/// <summary>Least-privilege RBAC (SPEC section 9): namespaced Roles with exactly the verbs rdev uses, nothing wider.</summary>
public sealed class RbacTests
{
    private static Rendered Production => Kustomize.Render(Kustomize.Production);

    [KustomizeFact]
    public void ApiMayReadPodsAndExecIntoThemOverWebSocket()
    {
        // pods/exec over WebSocket is an HTTP GET, authorized as "get"; Kubernetes 1.35+ also checks "create".
        Assert.Equal(["pods/exec: create,get", "pods: get,list,watch"], Grants("rdev-api"));
    }

    [KustomizeFact]
    public void DiscoveryMayReadPodsAndOnlyTheSettingsConfigMap()
    {
        Assert.Equal(["configmaps[rdev-projects]: get,list,watch", "pods: get,list,watch"], Grants("rdev-discovery"));
        // The ConfigMap discovery watches by default is the one the Role names.
        Assert.Equal("rdev-projects", new DiscoveryOptions().Kubernetes.ConfigMapName);
    }

    [KustomizeFact]
    public void NothingIsGrantedClusterWide()
    {
        Assert.Empty(Production.OfKind("ClusterRole"));
        Assert.Empty(Production.OfKind("ClusterRoleBinding"));
        foreach (var binding in Production.OfKind("RoleBinding"))
        {
            Assert.Equal(("Role", "rbac.authorization.k8s.io"), (binding.Str("roleRef.kind"), binding.Str("roleRef.apiGroup")));
        }
    }

    [KustomizeFact]
    public void NoRuleUsesAWildcard()
    {
        foreach (var role in Production.OfKind("Role"))
        {
            foreach (var rule in role.Objects("rules"))
            {
                foreach (var field in new[] { "apiGroups", "resources", "verbs", "resourceNames" })
                {
                    Assert.DoesNotContain(rule.Strings(field), value => value.Contains('*'));
                }

                Assert.Empty(rule.Strings("nonResourceURLs"));
                Assert.Equal([""], rule.Strings("apiGroups"));
            }
        }
    }

    [KustomizeFact]
    public void EachServiceAccountIsBoundToItsOwnRoleInItsNamespaceAndUsedByItsWorkload()
    {
        Assert.Equal(["rdev-api", "rdev-discovery"], Production.OfKind("ServiceAccount").Select(a => a.Name()).Order(StringComparer.Ordinal));
        Assert.Equal(["rdev-api", "rdev-discovery"], Production.OfKind("Role").Select(r => r.Name()).Order(StringComparer.Ordinal));
        foreach (var (account, workload) in new[] { ("rdev-api", "api"), ("rdev-discovery", "discovery") })
        {
            var binding = Assert.Single(Production.OfKind("RoleBinding"), b => b.Str("roleRef.name") == account);
            var subject = Assert.Single(binding.Objects("subjects"));
            Assert.Equal(("ServiceAccount", account, "rdev"), (subject.Str("kind"), subject.Str("name"), subject.Str("namespace")));
            Assert.Equal("rdev", binding.Str("metadata.namespace"));
            Assert.Equal(account, Production.Single("Deployment", workload).PodSpec().Str("serviceAccountName"));
        }
    }

    /// <summary>"resource[names]: verbs" per rule of the Role, verbs sorted, rules sorted.</summary>
    private static List<string> Grants(string role) =>
        [.. Production.Single("Role", role).Objects("rules").SelectMany(Describe).Order(StringComparer.Ordinal)];

    private static IEnumerable<string> Describe(JsonObject rule)
    {
        var names = rule.Strings("resourceNames").ToList();
        var verbs = string.Join(",", rule.Strings("verbs").Order(StringComparer.Ordinal));
        return rule.Strings("resources").Select(r => $"{r}{(names.Count > 0 ? $"[{string.Join(",", names)}]" : "")}: {verbs}");
    }
}
