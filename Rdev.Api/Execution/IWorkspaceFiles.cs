using Rdev.Api.ClaudeConfig;

namespace Rdev.Api.Execution;

/// <summary>
/// The files of Claude Code configuration items in a project's workspace, on whichever runtime holds it: the local
/// file system, or a pod reached through the Kubernetes exec API. Paths are relative to the workspace and built only
/// from <see cref="ConfigType"/> and validated <see cref="ItemNames"/>.
/// </summary>
/// <remarks>
/// Every adapter keeps the same promises: a write goes to a temporary file in the item's folder and is renamed into
/// place, so a reader sees the old bytes or the new ones, never a mix; missing parent folders are created; nothing is
/// read or written through a symbolic link on the item's path (<see cref="UnsafeWorkspacePathException"/>).
/// Failures to reach the workspace are <see cref="RuntimeUnavailableException"/>s.
/// </remarks>
public interface IWorkspaceFiles
{
    /// <summary>
    /// The items of <paramref name="type"/> as found, in no particular order, names not yet validated; empty when
    /// the type's folder does not exist. Each entry carries the first <see cref="WorkspaceEntry.HeadBytes"/> bytes
    /// of its file (NUL bytes dropped) for the front matter's description.
    /// </summary>
    Task<IReadOnlyList<WorkspaceEntry>> ListAsync(RunTarget target, ConfigType type, CancellationToken cancellationToken);

    /// <summary>The item's bytes (at most <paramref name="maxBytes"/>), or null when there is no such file.</summary>
    Task<WorkspaceFile?> ReadAsync(RunTarget target, ItemLocation item, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Replaces (or creates) the item's file atomically; returns its modification time when known.</summary>
    Task<DateTimeOffset?> WriteAsync(RunTarget target, ItemLocation item, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Removes the item (its folder, when it <see cref="ItemLocation.OwnsFolder">owns one</see>); false when there was none.</summary>
    Task<bool> DeleteAsync(RunTarget target, ItemLocation item, CancellationToken cancellationToken);
}

public sealed record WorkspaceEntry(string Name, long Size, DateTimeOffset ModifiedAt, string Head)
{
    /// <summary>Front matter whose closing line lies beyond this many bytes gives no description in a list.</summary>
    public const int HeadBytes = 8 * 1024;
}

/// <param name="Truncated">The file is longer than the bytes read: it cannot be served or compared.</param>
public sealed record WorkspaceFile(byte[] Content, DateTimeOffset ModifiedAt, bool Truncated);

/// <summary>A folder or file on the item's path is a symbolic link (or the file's place is taken by a folder).</summary>
public sealed class UnsafeWorkspacePathException(string message) : Exception(message);
