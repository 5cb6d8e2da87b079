using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>
/// Discovery run outside a cluster the way an operator runs it: as a process, found the cluster through
/// <c>KUBECONFIG</c> alone (no injected client configuration, no ~/.kube/config).
/// </summary>
[Trait("Category", "Slow")]
public sealed class KubeconfigDiscoveryTests
{
    [Fact]
    public async Task DiscoveryStartedWithOnlyKubeconfigPublishesTheClustersPods()
    {
        await using var h = await DiscoveryHarness.StartKubernetesAsync(startDiscovery: false);
        var home = Directory.CreateTempSubdirectory("rdev-home-");
        var kubeconfig = Path.Combine(Directory.CreateTempSubdirectory("rdev-kube-").FullName, "fake-cluster.yaml");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {h.Cluster.Url}
            users:
            - name: tester
              user:
                token: not-checked
            contexts:
            - name: fake
              context:
                cluster: fake
                user: tester
                namespace: {DiscoveryHarness.Namespace}
            current-context: fake
            """);
        h.CreatePod("claudebox-kc-0", "kc", ready: true);

        using var discovery = ApiProcess.Start(h.Database.ConnectionString, new Dictionary<string, string?>
        {
            ["Rdev:Runtime"] = ProjectRuntime.Kubernetes,
            ["Rdev:Kubernetes:ConfigMapName"] = DiscoveryHarness.ConfigMapName,
            ["KUBECONFIG"] = kubeconfig,
            // Nothing to fall back on: ~/.kube/config does not exist.
            ["HOME"] = home.FullName,
        }, project: "Rdev.Discovery");
        try
        {
            await Eventually.TrueAsync(
                () => discovery.Process.HasExited || h.Find("kc") is { Status: "running" },
                "discovery publishes the pod or exits", TimeSpan.FromSeconds(60));

            Assert.False(discovery.Process.HasExited, $"Discovery exited:\n{discovery.Output}");
            var kc = h.Find("kc")!;
            Assert.Equal(("kubernetes", "claudebox-kc-0", true), (kc.Runtime, kc.Pod?.Name, kc.Runnable));
        }
        finally
        {
            home.Delete(recursive: true);
            Directory.Delete(Path.GetDirectoryName(kubeconfig)!, recursive: true);
        }
    }
}
