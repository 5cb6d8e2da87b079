namespace Rdev.Discovery.Projects;

/// <summary>One row of the <c>projects</c> table as discovery wants it to be.</summary>
public sealed record DiscoveredProject(
    string Name,
    string Status,
    string? Description,
    string Runtime,
    string? Namespace,
    string? PodName,
    string? Container,
    string Workspace,
    IReadOnlyList<string> AllowedCommands,
    int MaxConcurrentCommands,
    bool Runnable)
{
    // Records compare lists by reference; the publisher compares snapshots by value.
    public bool Equals(DiscoveredProject? other) =>
        other is not null
        && (Name, Status, Description, Runtime, Namespace, PodName, Container, Workspace, MaxConcurrentCommands, Runnable)
            == (other.Name, other.Status, other.Description, other.Runtime, other.Namespace, other.PodName, other.Container, other.Workspace, other.MaxConcurrentCommands, other.Runnable)
        && AllowedCommands.SequenceEqual(other.AllowedCommands);

    public override int GetHashCode() => HashCode.Combine(Name, Status, PodName, Workspace);
}
