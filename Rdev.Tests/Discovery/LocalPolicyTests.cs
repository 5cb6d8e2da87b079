using Microsoft.Extensions.Logging;
using Rdev.Api.Projects;
using Microsoft.Extensions.Options;

namespace Rdev.Tests.Discovery;

/// <summary>
/// A local project's policy comes from the operator (<c>Rdev:Local:Policy</c>, <c>Rdev:Local:Projects:&lt;name&gt;</c>);
/// the workspace's <c>.rdev.yaml</c>, which any command run in the project can rewrite, may only narrow it.
/// </summary>
public sealed class LocalPolicyTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("rdev-projects-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task AWorkspaceFileAskingForShellAndAHundredCommandsGetsTheCeilingAndTheRefusalIsReported()
    {
        var path = WriteSettings("widened", """
            description: Checked out from a fork
            allowed_commands: [claude, shell, git]
            max_concurrent_commands: 100
            """);

        await using var h = await DiscoveryHarness.StartLocalAsync(root);
        var project = await h.WaitForStatusAsync("widened", "running");

        Assert.Equal(("claude,git", 5), Policy(project));
        Assert.Equal("Checked out from a fork", project.Description);
        var warnings = h.Discovery!.Messages(LogLevel.Warning).Where(m => m.Contains(path, StringComparison.Ordinal)).ToList();
        Assert.Contains(warnings, m => m.Contains("policy_refused", StringComparison.Ordinal) && m.Contains("'shell' refused", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("policy_refused", StringComparison.Ordinal) && m.Contains("max_concurrent_commands: 100 refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheOperatorsCeilingAppliesToEveryProjectAndAFileCanNarrowIt()
    {
        WriteSettings("narrower", "allowed_commands: [git]\nmax_concurrent_commands: 1\n");
        Directory.CreateDirectory(Path.Combine(root, "plain"));

        await using var h = await DiscoveryHarness.StartLocalAsync(root, new Dictionary<string, string?>
        {
            ["Rdev:Local:Policy:AllowedCommands:0"] = "git",
            ["Rdev:Local:Policy:AllowedCommands:1"] = "claude",
            ["Rdev:Local:Policy:MaxConcurrentCommands"] = "2",
        });
        var plain = await h.WaitForStatusAsync("plain", "running");
        var narrower = await h.WaitForStatusAsync("narrower", "running");

        Assert.Equal(("git,claude", 2), Policy(plain));
        Assert.Equal(("git", 1), Policy(narrower));
        Assert.DoesNotContain(h.Discovery!.Messages(LogLevel.Warning), m => m.Contains("policy_refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APinnedProjectMayRunShellAndItsFileCanNarrowThePinButNotWidenIt()
    {
        WriteSettings("narrowed", "allowed_commands: [shell]\nmax_concurrent_commands: 2\n");
        var widenedPath = WriteSettings("widened", "allowed_commands: [claude, git, shell]\nmax_concurrent_commands: 10\n");
        WriteSettings("unpinned", "allowed_commands: [shell, git]\n");
        Directory.CreateDirectory(Path.Combine(root, "plain"));

        await using var h = await DiscoveryHarness.StartLocalAsync(root, new Dictionary<string, string?>
        {
            ["Rdev:Local:Projects:plain:AllowedCommands:0"] = "shell",
            ["Rdev:Local:Projects:plain:AllowedCommands:1"] = "claude",
            ["Rdev:Local:Projects:narrowed:AllowedCommands:0"] = "claude",
            ["Rdev:Local:Projects:narrowed:AllowedCommands:1"] = "shell",
            ["Rdev:Local:Projects:narrowed:MaxConcurrentCommands"] = "3",
            ["Rdev:Local:Projects:widened:AllowedCommands:0"] = "claude",
            ["Rdev:Local:Projects:widened:AllowedCommands:1"] = "shell",
            ["Rdev:Local:Projects:widened:MaxConcurrentCommands"] = "3",
        });
        var plain = await h.WaitForStatusAsync("plain", "running");
        var narrowed = await h.WaitForStatusAsync("narrowed", "running");
        var widened = await h.WaitForStatusAsync("widened", "running");
        var unpinned = await h.WaitForStatusAsync("unpinned", "running");

        // A pin without a limit keeps the ceiling's.
        Assert.Equal(("shell,claude", 5), Policy(plain));
        Assert.Equal(("shell", 2), Policy(narrowed));
        Assert.Equal(("claude,shell", 3), Policy(widened));
        Assert.Equal(("git", 5), Policy(unpinned));
        var refusals = h.Discovery!.Messages(LogLevel.Warning).Where(m => m.Contains("policy_refused", StringComparison.Ordinal)).ToList();
        Assert.Contains(refusals, m => m.Contains(widenedPath, StringComparison.Ordinal) && m.Contains("'git' refused", StringComparison.Ordinal)
            && m.Contains("Rdev:Local:Projects:widened", StringComparison.Ordinal));
        Assert.Contains(refusals, m => m.Contains(widenedPath, StringComparison.Ordinal) && m.Contains("max_concurrent_commands: 10 refused", StringComparison.Ordinal));
        Assert.Contains(refusals, m => m.Contains("unpinned", StringComparison.Ordinal) && m.Contains("'shell' refused", StringComparison.Ordinal));
        Assert.DoesNotContain(refusals, m => m.Contains(Path.Combine(root, "narrowed"), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Rdev:Local:Policy:AllowedCommands:0", "bash", "'bash' is not one of claude, git, shell")]
    [InlineData("Rdev:Local:Policy:MaxConcurrentCommands", "101", "Rdev:Local:Policy: The field MaxConcurrentCommands must be between 1 and 100.")]
    [InlineData("Rdev:Local:Projects:Hello:AllowedCommands:0", "shell", "'Hello' is not a valid project name")]
    public async Task AWrongPolicySettingStopsDiscoveryAtStartUpAndNamesTheSetting(string key, string value, string message)
    {
        // Discovery refuses to start before it touches the database: no API is needed to migrate it.
        await using var h = await DiscoveryHarness.StartLocalAsync(
            root, new Dictionary<string, string?> { [key] = value }, startApi: false, startDiscovery: false);

        var error = Assert.Throws<OptionsValidationException>(() => h.StartDiscovery());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static (string AllowedCommands, int MaxConcurrentCommands) Policy(Project project) =>
        (string.Join(",", project.AllowedCommands), project.MaxConcurrentCommands);

    private string WriteSettings(string project, string yaml)
    {
        Directory.CreateDirectory(Path.Combine(root, project));
        var path = Path.Combine(root, project, ".rdev.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
