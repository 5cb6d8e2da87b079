using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Rdev.Discovery.Local;

/// <summary>
/// The few Linux calls .NET does not expose: the file type (lstat/fstat, through statx, whose layout is the same on
/// every architecture) and an open with O_NOFOLLOW | O_NONBLOCK. <see cref="File.OpenHandle"/> follows symlinks and
/// blocks on a FIFO.
/// </summary>
internal static class Native
{
    public const int ENOENT = 2;
    public const int ELOOP = 40;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;

    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    public enum FileType
    {
        Other,
        Fifo = 0x1000,
        CharacterDevice = 0x2000,
        Directory = 0x4000,
        BlockDevice = 0x6000,
        Regular = 0x8000,
        SymbolicLink = 0xA000,
        Socket = 0xC000,
    }

    /// <summary>stat's answer; <see cref="Errno"/> is not 0 when the call failed.</summary>
    public readonly record struct Status(int Errno, FileType Type, long Size, ulong Device, ulong Inode);

    // O_NOFOLLOW is one of the flags whose value differs between architectures.
    private static int ONoFollow => RuntimeInformation.ProcessArchitecture
        is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le ? 0x8000 : 0x20000;

    /// <summary>lstat: the path itself, not what a symlink points to.</summary>
    public static Status LStat(string path) => Stat(AtFdCwd, path, AtSymlinkNoFollow);

    /// <summary>fstat: the file the descriptor was opened on.</summary>
    public static Status FStat(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Stat((int)handle.DangerousGetHandle(), "", AtEmptyPath | AtSymlinkNoFollow);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Opens for reading without following a final symlink and without waiting for a FIFO's writer.</summary>
    public static int Open(string path, out int errno)
    {
        var fd = OpenNative(path, ORdOnly | ONoFollow | ONonBlock | OCloExec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    private static Status Stat(int directory, string path, int flags)
    {
        var buffer = new byte[StatxSize];
        if (StatxNative(directory, path, flags, StatxBasicStats, buffer) != 0)
        {
            return new Status(Marshal.GetLastPInvokeError(), FileType.Other, 0, 0, 0);
        }

        var mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(28)) & 0xF000;
        var type = Enum.IsDefined(typeof(FileType), mode) ? (FileType)mode : FileType.Other;
        var device = ((ulong)Field32(buffer, 136) << 32) | Field32(buffer, 140);
        return new Status(0, type, (long)Field64(buffer, 40), device, Field64(buffer, 32));
    }

    // statx fields are in the machine's byte order.
    private static uint Field32(byte[] buffer, int offset) => MemoryMarshal.Read<uint>(buffer.AsSpan(offset));

    private static ulong Field64(byte[] buffer, int offset) => MemoryMarshal.Read<ulong>(buffer.AsSpan(offset));

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int StatxNative(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
}
