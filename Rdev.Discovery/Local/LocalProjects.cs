using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Local;

/// <summary>
/// The local runtime's project set: each subfolder of the projects root whose name is a valid project name, with the
/// settings of its optional <c>.rdev.yaml</c>. Local projects are always <c>running</c>: the folder is the workspace
/// and commands run as child processes in it.
/// </summary>
public static class LocalProjects
{
    public const string SettingsFile = ".rdev.yaml";

    public static (IReadOnlyList<DiscoveredProject> Projects, IReadOnlyList<DiscoveryIssue> Issues) Scan(string root)
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

            var settings = ReadSettings(folder, name, issues);
            projects.Add(new DiscoveredProject(
                name,
                ProjectStatus.Running,
                settings.Description,
                ProjectRuntime.Local,
                Namespace: null,
                PodName: null,
                Container: null,
                Workspace: Path.GetFullPath(folder),
                settings.AllowedCommands ?? ProjectSettings.DefaultAllowedCommands,
                settings.MaxConcurrentCommands ?? ProjectSettings.DefaultMaxConcurrentCommands,
                Runnable: true));
        }

        return (projects, issues);
    }

    // pod_selector and workspace mean nothing here: the folder is the workspace.
    private static ProjectSettings ReadSettings(string folder, string name, List<DiscoveryIssue> issues)
    {
        var path = Path.Combine(folder, SettingsFile);
        string yaml;
        try
        {
            if (!File.Exists(path))
            {
                return ProjectSettings.None;
            }

            yaml = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, path, $"cannot be read ({ex.Message}); defaults apply"));
            return ProjectSettings.None;
        }

        if (ProjectSettings.TryParse(yaml, name, out var settings, out var error))
        {
            return settings;
        }

        issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.MalformedEntry, path, $"{error}; defaults apply"));
        return ProjectSettings.None;
    }
}
