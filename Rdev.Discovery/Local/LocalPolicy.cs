using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Local;

/// <summary>
/// A local project's policy. The operator sets it (<c>Rdev:Local:Policy</c>, or a pin under
/// <c>Rdev:Local:Projects:&lt;name&gt;</c>); the workspace's <c>.rdev.yaml</c>, which any command run in the project
/// can rewrite, may only narrow it. What it asks beyond the operator's policy is refused and reported.
/// </summary>
public static class LocalPolicy
{
    public static (IReadOnlyList<string> AllowedCommands, int MaxConcurrentCommands) Apply(
        DiscoveryOptions.LocalSettings operatorSettings, string project, ProjectSettings file, string path, List<DiscoveryIssue> issues)
    {
        var (ceiling, limit) = operatorSettings.PolicyFor(project);
        var source = operatorSettings.Projects.ContainsKey(project)
            ? $"Rdev:Local:Projects:{project}"
            : "Rdev:Local:Policy";

        var allowed = ceiling;
        if (file.AllowedCommands is { } asked)
        {
            allowed = [.. asked.Where(ceiling.Contains)];
            if (asked.Where(c => !ceiling.Contains(c)).ToList() is { Count: > 0 } refused)
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.PolicyRefused, path,
                    $"allowed_commands: {string.Join(", ", refused.Select(c => $"'{c}'"))} refused: the operator's policy " +
                    $"({source}) allows only {string.Join(", ", ceiling)}; a workspace file can only narrow it"));
            }
        }

        var max = limit;
        if (file.MaxConcurrentCommands is { } askedMax)
        {
            max = Math.Min(askedMax, limit);
            if (askedMax > limit)
            {
                issues.Add(DiscoveryIssue.Warning(DiscoveryEvents.PolicyRefused, path,
                    $"max_concurrent_commands: {askedMax} refused: the operator's policy ({source}) allows at most {limit}; " +
                    "a workspace file can only narrow it"));
            }
        }

        return (allowed, max);
    }
}
