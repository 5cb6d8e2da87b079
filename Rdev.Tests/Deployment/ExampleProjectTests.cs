using k8s.Models;
using Rdev.Discovery.Kubernetes;

namespace Rdev.Tests.Deployment;

/// <summary>The example project in aspire-manifest/k8s/examples is what discovery turns into a runnable project.</summary>
public sealed class ExampleProjectTests
{
    private static Rendered Examples => Kustomize.Render(Kustomize.Examples);

    [KustomizeFact]
    public void DiscoveryReadsTheExamplePodAndConfigMapAsARunnablePantheonProject()
    {
        var statefulSet = Examples.Single("StatefulSet", "claudebox-pantheon");
        var configMap = Examples.Single("ConfigMap", "rdev-projects");
        // The pod a StatefulSet creates first, running and ready.
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{statefulSet.Name()}-0",
                NamespaceProperty = "rdev",
                Labels = statefulSet.PodLabels().ToDictionary(),
                Annotations = statefulSet.Map("spec.template.metadata.annotations").ToDictionary(),
            },
            Spec = new V1PodSpec { Containers = statefulSet.Containers().Select(c => new V1Container { Name = c.Str("name") }).ToList() },
            Status = new V1PodStatus { Phase = "Running", Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] },
        };
        Assert.Equal("true", pod.Metadata.Labels[ClusterProjects.ProjectLabel]);

        var settings = ClusterProjects.ParseConfigMap(new V1ConfigMap { Data = configMap.Map("data").ToDictionary() });
        var (projects, issues) = ClusterProjects.Merge("rdev", [pod], settings);

        Assert.Empty(issues);
        var project = Assert.Single(projects);
        Assert.Equal(
            ("pantheon", "running", "Go API backend", "claudebox-pantheon-0", "claudebox", "/workspace", 5, true),
            (project.Name, project.Status, project.Description, project.PodName, project.Container, project.Workspace,
                project.MaxConcurrentCommands, project.Runnable));
        Assert.Equal(["claude", "shell", "git"], project.AllowedCommands);
    }

    [KustomizeFact]
    public void TheExamplePodCarriesTheLabelsAndAnnotationsOfSpecSection3()
    {
        var statefulSet = Examples.Single("StatefulSet", "claudebox-pantheon");
        var labels = statefulSet.PodLabels();
        var annotations = statefulSet.Map("spec.template.metadata.annotations");
        Assert.Equal(("true", "pantheon"), (labels[ClusterProjects.ProjectLabel], labels[ClusterProjects.NameLabel]));
        Assert.Equal("/workspace", annotations[ClusterProjects.WorkspaceAnnotation]);
        Assert.False(string.IsNullOrWhiteSpace(annotations[ClusterProjects.DescriptionAnnotation]));
        Assert.Equal("rdev", statefulSet.Str("metadata.namespace"));
    }
}
