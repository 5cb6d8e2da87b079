using k8s.Models;
using Rdev.Discovery.Kubernetes;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Discovery;

/// <summary>The merge rules on their own: pods and ConfigMap entries in, projects and issues out.</summary>
public sealed class ClusterProjectsTests
{
    [Fact]
    public void APodSelectorTakesThePodWhateverItsNameLabelSays()
    {
        var pods = new[] { Pod("box-0", "alpha", ready: true), Pod("box-1", "beta", ready: true) };
        var settings = Settings(("gamma.yaml", "pod_selector: box-0\n"));

        var (projects, issues) = ClusterProjects.Merge("default", pods, settings);

        Assert.Equal(["beta", "gamma"], projects.Select(p => p.Name));
        Assert.Equal("box-0", projects.Single(p => p.Name == "gamma").PodName);
        Assert.Empty(issues);
    }

    [Fact]
    public void TwoEntriesSelectingOnePodTheFirstByNameGetsItAndTheOtherIsListedWithoutAPod()
    {
        var pods = new[] { Pod("box-0", null, ready: true) };
        var settings = Settings(("beta.yaml", "pod_selector: box-0\n"), ("alpha.yaml", "pod_selector: box-0\n"));

        var (projects, issues) = ClusterProjects.Merge("default", pods, settings);

        Assert.Equal([("alpha", "box-0", true), ("beta", null, false)], projects.Select(p => (p.Name, p.PodName, p.Runnable)));
        Assert.Contains(issues, i => i.Type == "duplicate_name" && i.Subject == "ConfigMap entry beta.yaml");
    }

    [Fact]
    public void AnnotationsThatCannotWorkMakeTheProjectNotRunnable()
    {
        var badContainer = Pod("c-0", "c", ready: true, annotations: new() { ["rdev.orchard9.ai/container"] = "missing" });
        var relativeWorkspace = Pod("w-0", "w", ready: true, annotations: new() { ["rdev.orchard9.ai/workspace"] = "src" });

        var (projects, issues) = ClusterProjects.Merge("default", [badContainer, relativeWorkspace], ClusterProjects.Settings.Empty);

        Assert.All(projects, p => Assert.Equal(("running", false), (p.Status, p.Runnable)));
        Assert.Equal(2, issues.Count(i => i.Type == "invalid_annotation"));
    }

    [Fact]
    public void APodBeingDeletedIsUnknown()
    {
        var pod = Pod("d-0", "d", ready: true);
        pod.Metadata.DeletionTimestamp = DateTime.UtcNow;

        Assert.Equal("unknown", ClusterProjects.StatusOf(pod));
    }

    [Theory]
    [InlineData("name: other\n", "differs from the entry's name")]
    [InlineData("workspace: relative\n", "absolute path")]
    [InlineData("max_concurrent_commands: 101\n", "between 1 and 100")]
    [InlineData("allowed_commands: [claude, bash]\n", "'bash'")]
    [InlineData("unknown_field: 1\n", "invalid YAML")]
    [InlineData("- a\n- list\n", "invalid YAML")]
    [InlineData("max_concurrent_commands: 99999999999\n", "invalid")]
    [InlineData("allowed_commands: claude\n", "invalid YAML")]
    [InlineData("description: [a, b]\n", "invalid YAML")]
    [InlineData("{{{", "invalid YAML")]
    public void MalformedEntriesAreSkippedWithTheReason(string yaml, string reason)
    {
        var settings = Settings(("alpha.yaml", yaml));

        Assert.Empty(settings.Entries);
        var issue = Assert.Single(settings.Issues);
        Assert.Equal("malformed_entry", issue.Type);
        Assert.Contains(reason, issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyEntryIsAProjectWithDefaults()
    {
        var settings = Settings(("alpha.yaml", ""));

        var (projects, _) = ClusterProjects.Merge("default", [], settings);

        var alpha = Assert.Single(projects);
        Assert.Equal(("unknown", false, "/workspace", 5), (alpha.Status, alpha.Runnable, alpha.Workspace, alpha.MaxConcurrentCommands));
        Assert.Equal(["claude", "git"], alpha.AllowedCommands);
    }

    private static ClusterProjects.Settings Settings(params (string Key, string Yaml)[] entries) =>
        ClusterProjects.ParseConfigMap(new V1ConfigMap { Data = entries.ToDictionary(e => e.Key, e => e.Yaml) });

    private static V1Pod Pod(string name, string? project, bool ready, Dictionary<string, string>? annotations = null)
    {
        var labels = new Dictionary<string, string> { ["rdev.orchard9.ai/project"] = "true" };
        if (project is not null)
        {
            labels["rdev.orchard9.ai/name"] = project;
        }

        var pod = FakeKubeApiServer.NewPod("default", name, labels, annotations);
        pod.Metadata.CreationTimestamp = DateTime.UtcNow;
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
        };
        return pod;
    }
}
