using System.Net;
using Microsoft.Extensions.Logging;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Discovery;

/// <summary>The local runtime: subfolders of the projects root are projects.</summary>
public sealed class LocalDiscoveryTests : IDisposable
{
    // Long enough that the file-system watch, not the safety rescan, is what these tests see.
    private static readonly Dictionary<string, string?> WatchOnly = new() { ["Rdev:Local:RescanInterval"] = "00:10:00" };
    private readonly string root = Directory.CreateTempSubdirectory("rdev-projects-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task FoldersCreatedRenamedAndRemovedAreReflected()
    {
        Directory.CreateDirectory(Path.Combine(root, "one"));
        await using var h = await DiscoveryHarness.StartLocalAsync(root, WatchOnly);
        var one = await h.WaitForStatusAsync("one", "running");

        Directory.CreateDirectory(Path.Combine(root, "two"));
        await h.WaitForStatusAsync("two", "running");
        Directory.Move(Path.Combine(root, "two"), Path.Combine(root, "three"));
        var three = await h.WaitForStatusAsync("three", "running");
        await h.WaitForStatusAsync("two", "gone");
        Directory.Delete(Path.Combine(root, "one"));
        await h.WaitForStatusAsync("one", "gone");

        Assert.Equal(("local", true, null, Path.Combine(root, "one")), (one.Runtime, one.Runnable, one.Pod, one.Workspace));
        Assert.Equal(["claude", "git"], one.AllowedCommands);
        Assert.Equal(Path.Combine(root, "three"), three.Workspace);
        Assert.Equal(["three"], h.LiveNames());
    }

    [Fact]
    public async Task SettingsFileGivesTheSettingsAndABrokenOneOrABadFolderNameIsSkippedWithAWarning()
    {
        Directory.CreateDirectory(Path.Combine(root, "configured"));
        File.WriteAllText(Path.Combine(root, "configured", ".rdev.yaml"), """
            name: configured
            description: With settings
            allowed_commands: [git, claude]
            max_concurrent_commands: 2
            """);
        Directory.CreateDirectory(Path.Combine(root, "broken"));
        File.WriteAllText(Path.Combine(root, "broken", ".rdev.yaml"), "max_concurrent_commands: [");
        Directory.CreateDirectory(Path.Combine(root, "Not_Valid"));
        Directory.CreateDirectory(Path.Combine(root, ".hidden"));

        await using var h = await DiscoveryHarness.StartLocalAsync(root, WatchOnly);
        var configured = await h.WaitForStatusAsync("configured", "running");
        var broken = await h.WaitForStatusAsync("broken", "running");

        Assert.Equal(("With settings", 2), (configured.Description, configured.MaxConcurrentCommands));
        Assert.Equal(["git", "claude"], configured.AllowedCommands);
        Assert.Equal((5, null), (broken.MaxConcurrentCommands, broken.Description));
        Assert.Equal(["broken", "configured"], h.LiveNames());
        var warnings = h.Discovery!.Messages(LogLevel.Warning);
        Assert.Contains(warnings, m => m.Contains(Path.Combine(root, "broken", ".rdev.yaml"), StringComparison.Ordinal) && m.Contains("invalid YAML", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("'Not_Valid'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSafetyRescanPicksUpAnEditedSettingsFile()
    {
        Directory.CreateDirectory(Path.Combine(root, "edited"));
        await using var h = await DiscoveryHarness.StartLocalAsync(root, new Dictionary<string, string?> { ["Rdev:Local:RescanInterval"] = "00:00:00.200" });
        await h.WaitForAsync("edited", p => p.MaxConcurrentCommands == 5, "has the defaults");

        File.WriteAllText(Path.Combine(root, "edited", ".rdev.yaml"), "max_concurrent_commands: 3\n");

        await h.WaitForAsync("edited", p => p.MaxConcurrentCommands == 3, "takes the edited settings");
    }

    [Fact]
    public async Task AMissingRootMeansNoProjectsAndNotReadyUntilItExists()
    {
        var missing = Path.Combine(root, "later");
        await using var h = await DiscoveryHarness.StartLocalAsync(missing, new Dictionary<string, string?>
        {
            ["Rdev:Local:RescanInterval"] = "00:00:00.200",
        });
        var client = h.Discovery!.CreateClient();

        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, "discovery is not ready");
        Directory.CreateDirectory(Path.Combine(missing, "first"));

        await h.WaitForStatusAsync("first", "running");
        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "discovery is ready");
    }
}
