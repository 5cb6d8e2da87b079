using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Rdev.Api.Projects;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>
/// A local project's <c>.rdev.yaml</c> can be replaced by any command run in the project (SPEC section 5): discovery
/// reads it only as a regular file of at most 64 KiB and never dies or stalls on it.
/// </summary>
public sealed class WorkspaceSettingsFileTests : IDisposable
{
    private static readonly Dictionary<string, string?> FastRescan = new() { ["Rdev:Local:RescanInterval"] = "00:00:00.200" };
    private readonly string root = Directory.CreateTempSubdirectory("rdev-projects-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task ASymlinkAFifoAnOversizedFileOrADirectoryIsIgnoredWithAWarningAndALaterValidFileIsPickedUp()
    {
        var hostile = new Dictionary<string, string>
        {
            ["link"] = "symbolic link",
            ["fifo"] = "FIFO",
            ["big"] = "66560 bytes",
            ["folder"] = "directory",
        };
        foreach (var name in hostile.Keys)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
        }
        File.CreateSymbolicLink(SettingsPath("link"), "/dev/zero");
        MakeFifo(SettingsPath("fifo"));
        // 65 KiB of valid YAML that would narrow the policy if it were read.
        File.WriteAllText(SettingsPath("big"), "max_concurrent_commands: 1\n" + new string('#', (65 * 1024) - 28) + "\n");
        Directory.CreateDirectory(SettingsPath("folder"));

        await using var h = await DiscoveryHarness.StartLocalAsync(root, FastRescan);

        foreach (var (name, what) in hostile)
        {
            var project = await h.WaitForStatusAsync(name, "running");
            Assert.Equal(("claude,git", 5), Policy(project));
            Assert.Null(project.Description);
            await WarnedAsync(h, SettingsPath(name), "malformed_entry", what);
        }

        foreach (var name in hostile.Keys)
        {
            if (name == "folder")
            {
                Directory.Delete(SettingsPath(name));
            }
            else
            {
                File.Delete(SettingsPath(name));
            }
            File.WriteAllText(SettingsPath(name), "description: Fixed\nmax_concurrent_commands: 2\n");
        }

        foreach (var name in hostile.Keys)
        {
            await h.WaitForAsync(name, p => (p.Description, p.MaxConcurrentCommands) == ("Fixed", 2), "takes the valid file");
        }
    }

    [Fact]
    public async Task DiscoveryStartsAgainWhileAHostileSettingsFileIsStillThere()
    {
        Directory.CreateDirectory(Path.Combine(root, "trap"));
        File.CreateSymbolicLink(SettingsPath("trap"), "/dev/zero");
        Directory.CreateDirectory(Path.Combine(root, "blocked"));
        MakeFifo(SettingsPath("blocked"));
        await using var h = await DiscoveryHarness.StartLocalAsync(root, FastRescan);
        await h.WaitForStatusAsync("trap", "running");
        await h.WaitForStatusAsync("blocked", "running");

        await h.StopDiscoveryAsync();
        Directory.CreateDirectory(Path.Combine(root, "later"));
        h.StartDiscovery();

        await h.WaitForStatusAsync("later", "running");
        var client = h.Discovery!.CreateClient();
        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "the restarted discovery is ready");
        Assert.Equal(["blocked", "later", "trap"], h.LiveNames());
        await WarnedAsync(h, SettingsPath("trap"), "malformed_entry", "symbolic link");
    }

    private static (string AllowedCommands, int MaxConcurrentCommands) Policy(Project project) =>
        (string.Join(",", project.AllowedCommands), project.MaxConcurrentCommands);

    private string SettingsPath(string project) => Path.Combine(root, project, ".rdev.yaml");

    private static Task WarnedAsync(DiscoveryHarness h, string path, params string[] phrases) =>
        Eventually.TrueAsync(
            () => h.Discovery!.Messages(LogLevel.Warning).Any(m => m.Contains(path, StringComparison.Ordinal)
                && phrases.All(p => m.Contains(p, StringComparison.Ordinal))),
            $"a warning names {path} and says {string.Join(", ", phrases)}");

    private static void MakeFifo(string path)
    {
        if (MkFifo(path, 0b110_100_100) != 0)
        {
            throw new IOException($"mkfifo {path} failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int MkFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
