using Microsoft.Extensions.Logging;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>Pods and the settings ConfigMap in a fake cluster → the API's project registry, through real Postgres.</summary>
public sealed class KubernetesDiscoveryTests(SharedKubernetesDiscovery shared) : IClassFixture<SharedKubernetesDiscovery>, IAsyncLifetime
{
    private const string Ns = DiscoveryHarness.Namespace;

    private readonly DiscoveryHarness h = shared.Harness;

    public Task InitializeAsync() => h.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LabeledPodAppearsAsStartingBecomesRunningWhenReadyAndGoneWhenDeleted()
    {

        h.CreatePod("claudebox-alpha-0", "alpha");
        var starting = await h.WaitForStatusAsync("alpha", "starting");
        h.Cluster.SetPodReady(Ns, "claudebox-alpha-0", true);
        var running = await h.WaitForStatusAsync("alpha", "running");
        h.Cluster.DeletePod(Ns, "claudebox-alpha-0");
        var gone = await h.WaitForStatusAsync("alpha", "gone");

        Assert.Equal(("kubernetes", false, "/workspace", 5), (starting.Runtime, starting.Runnable, starting.Workspace, starting.MaxConcurrentCommands));
        Assert.Equal(["claude", "git"], starting.AllowedCommands);
        Assert.Equal(new("default", "claudebox-alpha-0", "main"), running.Pod);
        Assert.True(running.Runnable);
        Assert.False(gone.Runnable);
        Assert.DoesNotContain("alpha", h.LiveNames());
    }

    [Fact]
    public async Task AnnotationsGiveDescriptionWorkspaceAndContainerAndThePodNameIsTheDefaultProjectName()
    {
        var pod = Kubernetes.FakeKubeApiServer.NewPod(Ns, "beta", new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true" },
            new Dictionary<string, string>
            {
                ["rdev.orchard9.ai/description"] = "Beta service",
                ["rdev.orchard9.ai/workspace"] = "/src/beta",
                ["rdev.orchard9.ai/container"] = "dev",
            });
        pod.Spec.Containers.Insert(0, new k8s.Models.V1Container { Name = "sidecar", Image = "busybox:1.36" });
        pod.Spec.Containers[1].Name = "dev";

        h.Cluster.CreatePod(pod);
        h.Cluster.SetPodReady(Ns, "beta", true);
        var beta = await h.WaitForStatusAsync("beta", "running");

        Assert.Equal(("Beta service", "/src/beta", "dev", true), (beta.Description, beta.Workspace, beta.Pod!.Container, beta.Runnable));
    }

    [Fact]
    public async Task PodPhasesMapToStatuses()
    {
        h.CreatePod("p1", "phases", ready: true);
        await h.WaitForStatusAsync("phases", "running");

        h.Cluster.SetPodReady(Ns, "p1", false);
        await h.WaitForStatusAsync("phases", "starting");
        h.Cluster.SetPodPhase(Ns, "p1", "Failed");
        await h.WaitForStatusAsync("phases", "failed");
        h.Cluster.SetPodPhase(Ns, "p1", "Succeeded");
        var unknown = await h.WaitForStatusAsync("phases", "unknown");

        Assert.False(unknown.Runnable);
    }

    [Fact]
    public async Task RemovingTheProjectLabelMakesTheProjectLeaveAndAddingItBackRevivesIt()
    {
        h.CreatePod("gamma-0", "gamma", ready: true);
        await h.WaitForStatusAsync("gamma", "running");

        h.Cluster.UpdatePod(Ns, "gamma-0", p => p.Metadata.Labels["rdev.orchard9.ai/project"] = "false");
        await h.WaitForStatusAsync("gamma", "gone");
        Assert.DoesNotContain("gamma", h.LiveNames());

        h.Cluster.UpdatePod(Ns, "gamma-0", p => p.Metadata.Labels["rdev.orchard9.ai/project"] = "true");
        var revived = await h.WaitForStatusAsync("gamma", "running");
        Assert.True(revived.Runnable);
    }

    [Fact]
    public async Task ConfigMapEntryAddedChangedAndRemovedMovesTheSettings()
    {
        h.CreatePod("claudebox-pantheon-0", "pantheon", new Dictionary<string, string> { ["rdev.orchard9.ai/description"] = "from the pod" }, ready: true);
        await h.WaitForStatusAsync("pantheon", "running");

        h.SetConfigMap(new Dictionary<string, string>
        {
            ["pantheon.yaml"] = """
                name: pantheon
                description: Go API backend
                pod_selector: claudebox-pantheon-0
                workspace: /workspace/pantheon
                allowed_commands: [claude, shell, git]
                max_concurrent_commands: 3
                """,
        });
        var configured = await h.WaitForAsync("pantheon", p => p.MaxConcurrentCommands == 3, "takes the ConfigMap settings");
        h.SetConfigMap(new Dictionary<string, string> { ["pantheon.yaml"] = "allowed_commands: [git]\nmax_concurrent_commands: 1\n" });
        var changed = await h.WaitForAsync("pantheon", p => p.MaxConcurrentCommands == 1, "follows the changed entry");
        h.Cluster.DeleteConfigMap(Ns, DiscoveryHarness.ConfigMapName);
        var defaults = await h.WaitForAsync("pantheon", p => p.MaxConcurrentCommands == 5, "falls back to the defaults");

        Assert.Equal(("Go API backend", "/workspace/pantheon", true), (configured.Description, configured.Workspace, configured.Runnable));
        Assert.Equal(["claude", "shell", "git"], configured.AllowedCommands);
        Assert.Equal(["git"], changed.AllowedCommands);
        Assert.Equal("from the pod", changed.Description);
        Assert.Equal(("from the pod", "/workspace", "running"), (defaults.Description, defaults.Workspace, defaults.Status));
        Assert.Equal(["claude", "git"], defaults.AllowedCommands);
    }

    [Fact]
    public async Task ConfigMapEntryWithoutAPodIsListedAsUnknownAndNotRunnableUntilItsPodAppears()
    {
        h.SetConfigMap(new Dictionary<string, string> { ["delta.yaml"] = "description: Delta\npod_selector: delta-0\n" });

        var waiting = await h.WaitForStatusAsync("delta", "unknown");
        h.CreatePod("delta-0", ready: true);
        var running = await h.WaitForStatusAsync("delta", "running");

        Assert.Equal(("Delta", false, null), (waiting.Description, waiting.Runnable, waiting.Pod));
        Assert.Contains("delta", h.LiveNames());
        Assert.Equal(("delta-0", true), (running.Pod!.Name, running.Runnable));
    }

    [Fact]
    public async Task MalformedConfigMapEntriesAreSkippedWithAWarningAndTheOthersKeepWorking()
    {
        h.CreatePod("good-0", "good", ready: true);
        h.CreatePod("broken-0", "broken", ready: true);
        h.SetConfigMap(new Dictionary<string, string>
        {
            ["good.yaml"] = "max_concurrent_commands: 2\n",
            ["broken.yaml"] = "allowed_commands: [claude\nmax_concurrent_commands: {",
            ["typo.yaml"] = "allowed_command: [git]\n",
            ["wrong.yaml"] = "allowed_commands: [rm]\nmax_concurrent_commands: 0\n",
            ["README"] = "not a project",
            ["Bad_Name.yaml"] = "description: x\n",
        });

        await h.WaitForAsync("good", p => p.MaxConcurrentCommands == 2, "takes its entry");
        var broken = await h.WaitForStatusAsync("broken", "running");
        var warnings = h.Discovery!.Messages(LogLevel.Warning);

        Assert.Equal(5, broken.MaxConcurrentCommands);
        Assert.DoesNotContain("typo", h.LiveNames());
        Assert.DoesNotContain("wrong", h.LiveNames());
        Assert.Contains(warnings, m => m.Contains("ConfigMap entry broken.yaml", StringComparison.Ordinal) && m.Contains("invalid YAML", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("ConfigMap entry typo.yaml", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("ConfigMap entry wrong.yaml", StringComparison.Ordinal) && m.Contains("'rm'", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("ConfigMap entry README", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("ConfigMap entry Bad_Name.yaml", StringComparison.Ordinal) && m.Contains("invalid_name", StringComparison.Ordinal));

        // Still live: a later change is seen.
        h.CreatePod("after-0", "after");
        await h.WaitForStatusAsync("after", "starting");
    }

    [Fact]
    public async Task APodWhoseNameBreaksTheNameRuleIsSkippedWithAWarning()
    {
        h.CreatePod("weird-0", "Not_A_Name");
        h.CreatePod("fine-0", "fine");

        await h.WaitForStatusAsync("fine", "starting");

        Assert.Equal(["fine"], h.LiveNames());
        Assert.Contains(h.Discovery!.Messages(LogLevel.Warning), m => m.Contains("pod weird-0", StringComparison.Ordinal) && m.Contains("'Not_A_Name'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoPodsClaimingOneNameTheOldestWinsAndTheOtherTakesOverWhenItGoes()
    {
        var older = h.CreatePod("zeta-older", "twin", ready: true);
        // Creation timestamps have one-second resolution, as in a real cluster: the scenario needs the clock to move on.
        await Eventually.TrueAsync(() => DateTime.UtcNow.AddSeconds(-1) >= older.Metadata.CreationTimestamp,
            "the next pod gets a later creation timestamp");
        h.CreatePod("alpha-newer", "twin", ready: true);
        h.CreatePod("marker-0", "marker");
        await h.WaitForStatusAsync("marker", "starting");

        var twin = h.Find("twin")!;
        Assert.Equal("zeta-older", twin.Pod!.Name);
        Assert.Contains(h.Discovery!.Messages(LogLevel.Warning), m => m.Contains("pod alpha-newer", StringComparison.Ordinal) && m.Contains("duplicate_name", StringComparison.Ordinal));

        h.Cluster.DeletePod(Ns, "zeta-older");
        var takenOver = await h.WaitForAsync("twin", p => p.Pod?.Name == "alpha-newer", "moves to the remaining pod");
        Assert.Equal("running", takenOver.Status);
    }
}
