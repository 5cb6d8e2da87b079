using k8s.Models;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>
/// Turns labeled pods and the <c>rdev-projects</c> ConfigMap into the desired project set (SPEC section 3). Pure
/// functions: the watch loops keep the state, this decides what it means. See docs/discovery.md for the rules.
/// </summary>
public static class ClusterProjects
{
    public const string ProjectLabel = "rdev.orchard9.ai/project";
    public const string NameLabel = "rdev.orchard9.ai/name";
    public const string DescriptionAnnotation = "rdev.orchard9.ai/description";
    public const string WorkspaceAnnotation = "rdev.orchard9.ai/workspace";
    public const string ContainerAnnotation = "rdev.orchard9.ai/container";
    public const string LabelSelector = ProjectLabel + "=true";
    public const string DefaultWorkspace = "/workspace";
    private const string EntrySuffix = ".yaml";

    /// <summary>Valid ConfigMap entries by project name, and the issues of the ones that were skipped.</summary>
    public sealed record Settings(IReadOnlyDictionary<string, ProjectSettings> Entries, IReadOnlyList<DiscoveryIssue> Issues)
    {
        public static readonly Settings Empty = new(new Dictionary<string, ProjectSettings>(), []);
    }

    public static Settings ParseConfigMap(V1ConfigMap? configMap)
    {
        var entries = new Dictionary<string, ProjectSettings>(StringComparer.Ordinal);
        var issues = new List<DiscoveryIssue>();
        foreach (var (key, yaml) in (configMap?.Data ?? new Dictionary<string, string>()).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var subject = $"ConfigMap entry {key}";
            if (!key.EndsWith(EntrySuffix, StringComparison.Ordinal))
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, subject, "keys must be <project>.yaml; entry skipped"));
                continue;
            }

            var name = key[..^EntrySuffix.Length];
            if (!ProjectNames.IsValid(name))
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.InvalidName, subject, $"'{name}' is not a valid project name (lower-case DNS label); entry skipped"));
            }
            else if (ProjectSettings.TryParse(yaml ?? "", name, out var settings, out var error))
            {
                entries[name] = settings;
            }
            else
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, subject, $"{error}; entry skipped"));
            }
        }

        return new Settings(entries, issues);
    }

    /// <summary>running: phase Running and Ready; starting: Pending, or Running but not ready; failed: Failed; else unknown.</summary>
    public static string StatusOf(V1Pod pod)
    {
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            return ProjectStatus.Unknown;
        }

        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        return pod.Status?.Phase switch
        {
            "Running" when ready => ProjectStatus.Running,
            "Running" or "Pending" => ProjectStatus.Starting,
            "Failed" => ProjectStatus.Failed,
            _ => ProjectStatus.Unknown,
        };
    }

    public static (IReadOnlyList<DiscoveredProject> Projects, IReadOnlyList<DiscoveryIssue> Issues) Merge(
        string ns, IEnumerable<V1Pod> labeledPods, Settings settings)
    {
        var issues = new List<DiscoveryIssue>(settings.Issues);
        var pods = labeledPods.ToDictionary(p => p.Metadata.Name, StringComparer.Ordinal);
        var projects = new Dictionary<string, DiscoveredProject>(StringComparer.Ordinal);

        // A pod named by an entry's pod_selector belongs to that entry, whatever its name label says.
        var selected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, entry) in settings.Entries.Where(e => e.Value.PodSelector is not null).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!selected.TryAdd(entry.PodSelector!, name))
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.DuplicateName, $"ConfigMap entry {name}.yaml",
                    $"selects pod {entry.PodSelector}, which entry {selected[entry.PodSelector!]}.yaml already selects; listed without a pod"));
            }
        }

        var byLabel = ClaimsByLabel(pods.Values.Where(p => !selected.ContainsKey(p.Metadata.Name)), issues);

        foreach (var (name, entry) in settings.Entries)
        {
            V1Pod? pod;
            if (entry.PodSelector is { } podName)
            {
                pod = selected[podName] == name ? pods.GetValueOrDefault(podName) : null;
                if (byLabel.TryGetValue(name, out var unused))
                {
                    issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.DuplicateName, $"pod {unused.Metadata.Name}",
                        $"labeled as project '{name}', but the ConfigMap entry {name}.yaml selects pod {podName}; pod ignored"));
                }
            }
            else
            {
                pod = byLabel.GetValueOrDefault(name);
            }

            if (pod is null && (entry.PodSelector is null || selected[entry.PodSelector] == name))
            {
                issues.Add(new DiscoveryIssue(DiscoveryEvents.MissingPod, $"project {name}",
                    entry.PodSelector is null
                        ? "has a ConfigMap entry but no labeled pod; listed as unknown and not runnable"
                        : $"selects pod {entry.PodSelector}, which is not a labeled pod in namespace {ns}; listed as unknown and not runnable",
                    LogLevel.Information));
            }

            projects[name] = Project(name, ns, pod, entry, issues);
        }

        foreach (var (name, pod) in byLabel.Where(p => !projects.ContainsKey(p.Key)))
        {
            projects[name] = Project(name, ns, pod, ProjectSettings.None, issues);
        }

        return ([.. projects.Values.OrderBy(p => p.Name, StringComparer.Ordinal)], issues);
    }

    /// <summary>Each pod's project name (its name label, else the pod name); of two pods with one name the oldest wins.</summary>
    private static Dictionary<string, V1Pod> ClaimsByLabel(IEnumerable<V1Pod> pods, List<DiscoveryIssue> issues)
    {
        var claims = new Dictionary<string, V1Pod>(StringComparer.Ordinal);
        var byName = pods.GroupBy(p => Get(p.Metadata.Labels, NameLabel) is { Length: > 0 } label ? label : p.Metadata.Name);
        foreach (var group in byName.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (!ProjectNames.IsValid(group.Key))
            {
                foreach (var pod in group)
                {
                    issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.InvalidName, $"pod {pod.Metadata.Name}",
                        $"'{group.Key}' is not a valid project name (lower-case DNS label); pod skipped"));
                }
                continue;
            }

            var ordered = group.OrderBy(p => p.Metadata.CreationTimestamp ?? DateTime.MaxValue)
                .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
            claims[group.Key] = ordered[0];
            foreach (var loser in ordered.Skip(1))
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.DuplicateName, $"pod {loser.Metadata.Name}",
                    $"also claims project '{group.Key}', which pod {ordered[0].Metadata.Name} (the oldest) has; pod ignored"));
            }
        }

        return claims;
    }

    private static DiscoveredProject Project(string name, string ns, V1Pod? pod, ProjectSettings settings, List<DiscoveryIssue> issues)
    {
        var annotations = pod?.Metadata.Annotations;
        var status = pod is null ? ProjectStatus.Unknown : StatusOf(pod);
        var usable = pod is not null;

        var container = pod?.Spec?.Containers?.FirstOrDefault()?.Name;
        if (Get(annotations, ContainerAnnotation) is { } annotated)
        {
            container = annotated;
            if (pod?.Spec?.Containers?.Any(c => c.Name == annotated) != true)
            {
                usable = false;
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.InvalidAnnotation, $"pod {pod?.Metadata.Name}",
                    $"{ContainerAnnotation} names container '{annotated}', which the pod does not have; not runnable"));
            }
        }

        var workspace = settings.Workspace;
        if (workspace is null && Get(annotations, WorkspaceAnnotation) is { } annotatedWorkspace)
        {
            workspace = annotatedWorkspace;
            if (!annotatedWorkspace.StartsWith('/'))
            {
                usable = false;
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.InvalidAnnotation, $"pod {pod?.Metadata.Name}",
                    $"{WorkspaceAnnotation} '{annotatedWorkspace}' is not an absolute path; not runnable"));
            }
        }

        return new DiscoveredProject(
            name,
            status,
            settings.Description ?? Get(annotations, DescriptionAnnotation),
            ProjectRuntime.Kubernetes,
            pod is null ? null : ns,
            pod?.Metadata.Name,
            pod is null ? null : container,
            workspace ?? DefaultWorkspace,
            settings.AllowedCommands ?? ProjectSettings.DefaultAllowedCommands,
            settings.MaxConcurrentCommands ?? ProjectSettings.DefaultMaxConcurrentCommands,
            Runnable: usable && status == ProjectStatus.Running);
    }

    private static string? Get(IDictionary<string, string>? values, string key) =>
        values is not null && values.TryGetValue(key, out var value) ? value : null;
}
