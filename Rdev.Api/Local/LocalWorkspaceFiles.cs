using System.Text;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Execution;

namespace Rdev.Api.Local;

/// <summary>
/// Configuration items on the local runtime: files under the project's folder, with the same promises as the pod
/// scripts (<see cref="IWorkspaceFiles"/>): write a hidden temporary file beside the item, flush it, rename it over
/// the item; never follow a symbolic link on the item's path.
/// </summary>
public sealed partial class LocalWorkspaceFiles(ILogger<LocalWorkspaceFiles> logger) : IWorkspaceFiles
{
    public async Task<IReadOnlyList<WorkspaceEntry>> ListAsync(RunTarget target, ConfigType type, CancellationToken cancellationToken)
    {
        var workspace = Workspace(target);
        return await Guard(async () =>
        {
            RefuseLinks(workspace, type.Folder, file: null);
            var folder = new DirectoryInfo(Path.Combine(workspace, type.Folder));
            if (!folder.Exists)
            {
                return [];
            }

            var entries = new List<WorkspaceEntry>();
            foreach (var info in folder.EnumerateFileSystemInfos())
            {
                // Hidden entries (our temporary files among them) are not items, as with the shell's '*'.
                if (info.Name.StartsWith('.') || info.LinkTarget is not null)
                {
                    continue;
                }

                var (name, file) = type.ItemsAreFolders
                    ? (info.Name, new FileInfo(Path.Combine(info.FullName, ConfigType.SkillFile)))
                    : (info.Name.EndsWith(ConfigType.Extension, StringComparison.Ordinal) ? info.Name[..^ConfigType.Extension.Length] : null,
                        info as FileInfo);
                if (name is null || file is null || !file.Exists || file.LinkTarget is not null)
                {
                    continue;
                }

                try
                {
                    entries.Add(new WorkspaceEntry(name, file.Length, Seconds(file.LastWriteTimeUtc), await HeadAsync(file, cancellationToken)));
                }
                catch (FileNotFoundException)
                {
                    // Deleted while listing.
                }
            }

            return (IReadOnlyList<WorkspaceEntry>)entries;
        });
    }

    public async Task<WorkspaceFile?> ReadAsync(RunTarget target, ItemLocation item, int maxBytes, CancellationToken cancellationToken)
    {
        var workspace = Workspace(target);
        return await Guard(async () =>
        {
            RefuseLinks(workspace, item.Folder, item.FileName);
            var path = Path.Combine(workspace, item.Path);
            if (!File.Exists(path))
            {
                return null;
            }

            try
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var buffer = new byte[Math.Min(stream.Length, maxBytes) + 1];
                var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                var modified = Seconds(File.GetLastWriteTimeUtc(stream.SafeFileHandle));
                return read > maxBytes
                    ? new WorkspaceFile(buffer[..maxBytes], modified, Truncated: true)
                    : new WorkspaceFile(buffer[..read], modified, Truncated: false);
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        });
    }

    public async Task<DateTimeOffset?> WriteAsync(RunTarget target, ItemLocation item, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var workspace = Workspace(target);
        return await Guard(async () =>
        {
            RefuseLinks(workspace, item.Folder, item.FileName);
            var folder = Path.Combine(workspace, item.Folder);
            var path = Path.Combine(folder, item.FileName);
            if (Directory.Exists(path))
            {
                throw new UnsafeWorkspacePathException($"'{item.Path}' is a folder, not a file.");
            }

            Directory.CreateDirectory(folder);
            RemoveTemporaryFiles(folder, item.FileName);
            var temporary = Path.Combine(folder, $".{item.FileName}.rdev-{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    await stream.WriteAsync(content, cancellationToken);
                    // On disk before the rename, so a crash cannot leave the item empty.
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            return (DateTimeOffset?)Seconds(File.GetLastWriteTimeUtc(path));
        });
    }

    public async Task<bool> DeleteAsync(RunTarget target, ItemLocation item, CancellationToken cancellationToken)
    {
        var workspace = Workspace(target);
        return await Guard(() =>
        {
            RefuseLinks(workspace, item.Folder, item.FileName);
            var folder = Path.Combine(workspace, item.Folder);
            var path = Path.Combine(folder, item.FileName);
            if (!File.Exists(path))
            {
                return Task.FromResult(false);
            }

            if (item.OwnsFolder)
            {
                // Out of sight in one rename, then removed: a reader never sees half a skill.
                var doomed = Path.Combine(Path.GetDirectoryName(folder)!, $".{Path.GetFileName(folder)}.rdev-{Guid.NewGuid():N}.del");
                Directory.Move(folder, doomed);
                Directory.Delete(doomed, recursive: true);
            }
            else
            {
                File.Delete(path);
            }

            return Task.FromResult(true);
        });
    }

    private static string Workspace(RunTarget target) =>
        Directory.Exists(target.Workspace)
            ? target.Workspace
            : throw new RuntimeUnavailableException($"The folder of project '{target.Project}' does not exist.", RuntimeBlame.Project);

    /// <summary>Each folder from the workspace down to <paramref name="folder"/>, and the file, must not be a symbolic link.</summary>
    private static void RefuseLinks(string workspace, string folder, string? file)
    {
        var path = workspace;
        foreach (var segment in folder.Split('/').Append(file).OfType<string>())
        {
            path = Path.Combine(path, segment);
            if (new FileInfo(path).LinkTarget is not null)
            {
                throw new UnsafeWorkspacePathException($"'{Path.GetRelativePath(workspace, path)}' is a symbolic link; rdev does not follow links.");
            }
        }
    }

    private void RemoveTemporaryFiles(string folder, string fileName)
    {
        foreach (var stale in Directory.EnumerateFiles(folder, $".{fileName}.rdev-*.tmp"))
        {
            LogRemovingTemporaryFile(logger, stale);
            File.Delete(stale);
        }
    }

    private static async Task<string> HeadAsync(FileInfo file, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[WorkspaceEntry.HeadBytes];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, read).Replace("\0", "", StringComparison.Ordinal);
    }

    private static DateTimeOffset Seconds(DateTime utc) => DateTimeOffset.FromUnixTimeSeconds(new DateTimeOffset(utc, TimeSpan.Zero).ToUnixTimeSeconds());

    /// <summary>Permissions, a full disk, a file where a folder should be: the project's workspace is the problem.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeUnavailableException("The project's workspace could not be read or written.", RuntimeBlame.Project, e);
        }
    }

    [LoggerMessage(LogLevel.Information, "Removing a temporary file left by an interrupted write: {Path}")]
    private static partial void LogRemovingTemporaryFile(ILogger logger, string path);
}
