using System.Runtime.InteropServices;

namespace Rdev.Discovery.Local;

/// <summary>
/// An open with O_NOFOLLOW | O_NONBLOCK, which .NET does not expose: <see cref="File.OpenHandle"/> follows symlinks and
/// blocks on a FIFO. File types come from <see cref="Rdev.Core.Linux.FileStatus"/>.
/// </summary>
internal static class Native
{
    public const int ENOENT = 2;
    public const int ELOOP = 40;

    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    // O_NOFOLLOW is one of the flags whose value differs between architectures.
    private static int ONoFollow => RuntimeInformation.ProcessArchitecture
        is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le ? 0x8000 : 0x20000;

    /// <summary>Opens for reading without following a final symlink and without waiting for a FIFO's writer.</summary>
    public static int Open(string path, out int errno)
    {
        var fd = OpenNative(path, ORdOnly | ONoFollow | ONonBlock | OCloExec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
}
