using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Rdev.Core.Linux;

/// <summary>A file's type as <c>stat</c> reports it (the <c>S_IFMT</c> bits of its mode).</summary>
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

/// <summary>
/// <c>stat</c>'s answer, through Linux's <c>statx</c>, whose layout is the same on every architecture: what .NET does
/// not expose (the file type of a FIFO or device, the owner, the inode). <see cref="Errno"/> is not 0 when the call
/// failed, and the other fields are then empty.
/// </summary>
public readonly record struct FileStatus(int Errno, FileType Type, long Size, ulong Device, ulong Inode, uint Uid, uint Gid)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;

    /// <summary>stat: the file a path names, through symlinks.</summary>
    public static FileStatus Of(string path) => Read(AtFdCwd, path, 0);

    /// <summary>lstat: the path itself, not what a symlink points to.</summary>
    public static FileStatus OfLink(string path) => Read(AtFdCwd, path, AtSymlinkNoFollow);

    /// <summary>fstat: the file the descriptor was opened on.</summary>
    public static FileStatus Of(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Read((int)handle.DangerousGetHandle(), "", AtEmptyPath | AtSymlinkNoFollow);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static FileStatus Read(int directory, string path, int flags)
    {
        var buffer = new byte[StatxSize];
        if (Statx(directory, path, flags, StatxBasicStats, buffer) != 0)
        {
            return new FileStatus(Marshal.GetLastPInvokeError(), FileType.Other, 0, 0, 0, 0, 0);
        }

        // struct statx: stx_uid @20, stx_gid @24, stx_mode @28, stx_ino @32, stx_size @40, stx_dev_major/minor @136/140,
        // in the machine's byte order.
        var mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(28)) & 0xF000;
        var type = Enum.IsDefined(typeof(FileType), mode) ? (FileType)mode : FileType.Other;
        var device = ((ulong)Field32(buffer, 136) << 32) | Field32(buffer, 140);
        return new FileStatus(0, type, (long)Field64(buffer, 40), device, Field64(buffer, 32), Field32(buffer, 20), Field32(buffer, 24));
    }

    private static uint Field32(byte[] buffer, int offset) => MemoryMarshal.Read<uint>(buffer.AsSpan(offset));

    private static ulong Field64(byte[] buffer, int offset) => MemoryMarshal.Read<ulong>(buffer.AsSpan(offset));

    [DllImport("libc", EntryPoint = "statx", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
