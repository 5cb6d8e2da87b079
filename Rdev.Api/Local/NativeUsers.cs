using System.Runtime.InteropServices;

namespace Rdev.Api.Local;

/// <summary>An OS user a local command may run as. Name and home are null for a uid without a passwd entry.</summary>
public sealed record OsUser(uint Uid, uint Gid, string? Name, string? Home);

/// <summary>The few libc calls the local runtime needs about users and this process (Linux).</summary>
internal static class NativeUsers
{
    private const int PrSetDumpable = 4;

    public static bool IsRoot => OperatingSystem.IsLinux() && GetEffectiveUserId() == 0;

    public static uint EffectiveUserId => OperatingSystem.IsLinux() ? GetEffectiveUserId() : 0;

    public static void MakeProcessNonDumpable()
    {
        if (Prctl(PrSetDumpable, 0, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_DUMPABLE, 0) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    public static OsUser? ByName(string name) => Lookup((ref Passwd entry, byte[] buffer, out IntPtr result) =>
        GetPasswordByName(name, ref entry, buffer, (nuint)buffer.Length, out result));

    public static OsUser? ById(uint uid) => Lookup((ref Passwd entry, byte[] buffer, out IntPtr result) =>
        GetPasswordById(uid, ref entry, buffer, (nuint)buffer.Length, out result));

    /// <summary>The owner and group of <paramref name="path"/>, or null when it cannot be read.</summary>
    public static (uint Uid, uint Gid)? Owner(string path) =>
        FileStatus.Of(path) is { Errno: 0 } status ? (status.Uid, status.Gid) : null;

    /// <summary>Hands <paramref name="path"/> to <paramref name="user"/> (a root API's run folder for a command that runs as that user).</summary>
    public static void GiveTo(string path, OsUser user)
    {
        if (Chown(path, user.Uid, user.Gid) != 0)
        {
            throw new IOException($"chown of a run folder failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>kill(2): 0, or the errno (ESRCH 3 when no such process or group).</summary>
    public static int Signal(int pid, int signal) => Kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Whether <paramref name="pid"/> is a live process (not a zombie).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 1 || Signal(pid, 0) == 3)
        {
            return false;
        }

        try
        {
            // The state follows the command name in parentheses, which may itself hold spaces and parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private delegate int PasswordLookup(ref Passwd entry, byte[] buffer, out IntPtr result);

    private static OsUser? Lookup(PasswordLookup lookup)
    {
        var entry = default(Passwd);
        var buffer = new byte[16 * 1024];
        if (lookup(ref entry, buffer, out var result) != 0 || result == IntPtr.Zero)
        {
            return null;
        }

        return new OsUser(entry.Uid, entry.Gid, Marshal.PtrToStringUTF8(entry.Name), Marshal.PtrToStringUTF8(entry.Dir));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
        public IntPtr Gecos;
        public IntPtr Dir;
        public IntPtr Shell;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    [DllImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static extern int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "getpwnam_r")]
    private static extern int GetPasswordByName(
        [MarshalAs(UnmanagedType.LPUTF8Str)] string name, ref Passwd entry, byte[] buffer, nuint length, out IntPtr result);

    [DllImport("libc", EntryPoint = "getpwuid_r")]
    private static extern int GetPasswordById(uint uid, ref Passwd entry, byte[] buffer, nuint length, out IntPtr result);
}
