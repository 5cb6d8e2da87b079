using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Rdev.Discovery.Local;

/// <summary>What reading a workspace file gave: its text, nothing (no file), or why it was not used.</summary>
public readonly record struct WorkspaceFileRead(string? Text, string? Problem)
{
    public static readonly WorkspaceFileRead Absent = new(null, null);

    public static WorkspaceFileRead Unusable(string problem) => new(null, problem);
}

/// <summary>
/// Reads a file that anything running in the workspace can replace (SPEC section 5): only a regular file of at most
/// <see cref="MaxBytes"/>, never through a symbolic link, with a bounded read and a timeout. A symlink to /dev/zero
/// would otherwise be read forever, and opening a FIFO blocks until a writer appears. The type is checked with lstat
/// before opening, and again with fstat on the opened descriptor (opened with O_NOFOLLOW | O_NONBLOCK, so neither a
/// symlink nor a FIFO swapped in between the two steps can be followed or block the open).
/// </summary>
public static class WorkspaceFile
{
    public const int MaxBytes = 64 * 1024;
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // A read that outlives its timeout (a hung network file system) stays here, so later scans wait on it again
    // instead of starting another blocked read each time.
    private static readonly ConcurrentDictionary<string, Task<WorkspaceFileRead>> Reads = new();

    public static async Task<WorkspaceFileRead> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var read = Reads.GetOrAdd(path, static p => Task.Run(() => ReadOrExplain(p)));
        try
        {
            return await read.WaitAsync(ReadTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return WorkspaceFileRead.Unusable($"was not read within {ReadTimeout.TotalSeconds:0.#} s");
        }
        finally
        {
            if (read.IsCompleted)
            {
                Reads.TryRemove(new KeyValuePair<string, Task<WorkspaceFileRead>>(path, read));
            }
        }
    }

    private static WorkspaceFileRead ReadOrExplain(string path)
    {
        try
        {
            return Read(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return WorkspaceFileRead.Unusable($"cannot be read ({ex.Message})");
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // statx needs glibc 2.28 or musl 1.2.5.
            return WorkspaceFileRead.Unusable($"cannot be checked to be a regular file on this system ({ex.Message})");
        }
    }

    private static WorkspaceFileRead Read(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return WorkspaceFileRead.Unusable("cannot be checked to be a regular file on this operating system (Linux only)");
        }

        var before = FileStatus.OfLink(path);
        if (before.Errno == Native.ENOENT)
        {
            return WorkspaceFileRead.Absent;
        }
        if (Check(before, "") is { } problem)
        {
            return WorkspaceFileRead.Unusable(problem);
        }

        var fd = Native.Open(path, out var openErrno);
        if (fd < 0)
        {
            return openErrno switch
            {
                Native.ENOENT => WorkspaceFileRead.Absent,
                Native.ELOOP => WorkspaceFileRead.Unusable("was replaced by a symbolic link while being read; only a regular file is read"),
                _ => WorkspaceFileRead.Unusable($"cannot be opened ({Marshal.GetPInvokeErrorMessage(openErrno)})"),
            };
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var after = FileStatus.Of(handle);
        if (Check(after, " (after opening)") is { } changed)
        {
            return WorkspaceFileRead.Unusable(changed);
        }
        if ((after.Device, after.Inode) != (before.Device, before.Inode))
        {
            return WorkspaceFileRead.Unusable("was replaced while being read");
        }

        return ReadBounded(handle);
    }

    private static string? Check(FileStatus status, string when) => status switch
    {
        { Errno: not 0 } => $"cannot be examined{when} ({Marshal.GetPInvokeErrorMessage(status.Errno)})",
        { Type: not FileType.Regular } => $"is {Describe(status.Type)}{when}, not a regular file; only a regular file is read",
        { Size: > MaxBytes } => $"is {status.Size} bytes{when}; at most {MaxBytes} bytes are read",
        _ => null,
    };

    private static WorkspaceFileRead ReadBounded(SafeFileHandle handle)
    {
        // One byte more than allowed tells a file that grew after fstat from one that is exactly at the limit.
        var buffer = new byte[MaxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(length), length)) > 0)
        {
            length += read;
        }

        if (length > MaxBytes)
        {
            return WorkspaceFileRead.Unusable($"grew past {MaxBytes} bytes while being read; at most {MaxBytes} bytes are read");
        }

        try
        {
            return new WorkspaceFileRead(StrictUtf8.GetString(buffer, 0, length), null);
        }
        catch (DecoderFallbackException)
        {
            return WorkspaceFileRead.Unusable("is not valid UTF-8");
        }
    }

    private static string Describe(FileType type) => type switch
    {
        FileType.SymbolicLink => "a symbolic link",
        FileType.Directory => "a directory",
        FileType.Fifo => "a FIFO",
        FileType.CharacterDevice or FileType.BlockDevice => "a device",
        FileType.Socket => "a socket",
        _ => "a special file",
    };
}
