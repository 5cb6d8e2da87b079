using System.Text.Json.Serialization;

namespace Rdev.Api.Projects;

/// <summary>
/// A project as discovery last published it (SPEC section 3). <see cref="Runnable"/> is the one thing a command needs
/// to check: true only when there is somewhere to run (a ready pod, or a local folder) right now.
/// </summary>
public sealed record Project(
    string Name,
    string Status,
    string? Description,
    string Runtime,
    ProjectPod? Pod,
    string Workspace,
    IReadOnlyList<string> AllowedCommands,
    int MaxConcurrentCommands,
    bool Runnable,
    DateTimeOffset UpdatedAt)
{
    [JsonIgnore]
    public bool IsGone => Status == ProjectStatus.Gone;

    public bool Allows(string commandKind) => AllowedCommands.Contains(commandKind);
}

/// <summary>Where a kubernetes project's commands run.</summary>
public sealed record ProjectPod(string Namespace, string Name, string Container);
