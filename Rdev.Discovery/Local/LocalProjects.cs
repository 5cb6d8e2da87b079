using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Local;

/// <summary>
/// The local runtime's project set: each subfolder of the projects root whose name is a valid project name, with the
/// operator's policy for it, narrowed by its optional <c>.rdev.yaml</c> (see <see cref="LocalPolicy"/>). Local
/// projects are always <c>running</c>: the folder is the workspace and commands run as child processes in it.
/// </summary>
public static class LocalProjects
{
    public const string SettingsFile = ".rdev.yaml";

    public static async Task<(IReadOnlyList<DiscoveredProject> Projects, IReadOnlyList<DiscoveryIssue> Issues)> ScanAsync(
        string root, DiscoveryOptions.LocalSettings operatorSettings, CancellationToken cancellationToken)
    {
        var projects = new List<DiscoveredProject>();
        var issues = new List<DiscoveryIssue>();
        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            if (name.StartsWith('.'))
            {
                continue;
            }

            if (!ProjectNames.IsValid(name))
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.InvalidName, $"folder {folder}",
                    $"'{name}' is not a valid project name (lower-case DNS label); folder skipped"));
                continue;
            }

            var path = Path.Combine(folder, SettingsFile);
            var settings = await ReadSettingsAsync(path, name, issues, cancellationToken);
            var (allowedCommands, maxConcurrentCommands) = LocalPolicy.Apply(operatorSettings, name, settings, path, issues);
            projects.Add(new DiscoveredProject(
                name,
                ProjectStatus.Running,
                settings.Description,
                ProjectRuntime.Local,
                Namespace: null,
                PodName: null,
                Container: null,
                Workspace: Path.GetFullPath(folder),
                allowedCommands,
                maxConcurrentCommands,
                Runnable: true));
        }

        return (projects, issues);
    }

    // pod_selector and workspace mean nothing here: the folder is the workspace.
    private static async Task<ProjectSettings> ReadSettingsAsync(
        string path, string name, List<DiscoveryIssue> issues, CancellationToken cancellationToken)
    {
        var read = await WorkspaceFile.ReadAsync(path, cancellationToken);
        if (read.Problem is not null)
        {
            issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, path, $"{read.Problem}; ignored, the operator's policy applies"));
            return ProjectSettings.None;
        }
        if (read.Text is null)
        {
            return ProjectSettings.None;
        }

        if (ProjectSettings.TryParse(read.Text, name, out var settings, out var error))
        {
            return settings;
        }

        issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, path, $"{error}; ignored, the operator's policy applies"));
        return ProjectSettings.None;
    }
}
