namespace Rdev.AppHost;

/// <summary>A small git repository so that a fresh local run has a project to try commands on.</summary>
internal static class SampleProject
{
    public const string Name = "hello";

    /// <summary>Pinned for discovery by the AppHost (<c>WithSampleProjectPolicy</c>).</summary>
    public static readonly string[] AllowedCommands = ["claude", "git", "shell"];

    public static void EnsureCreated(string projectsRoot)
    {
        Directory.CreateDirectory(projectsRoot);
        var project = Path.Combine(projectsRoot, Name);
        if (Directory.Exists(project))
        {
            return;
        }

        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "README.md"),
            "# hello\n\nA sample project created by the rdev AppHost. Every folder next to this one is a project.\n");
        File.WriteAllText(Path.Combine(project, ".rdev.yaml"),
            "description: Sample project created by the rdev AppHost\n" +
            "# allowed_commands and max_concurrent_commands here can only narrow the operator's policy, which the\n" +
            "# AppHost sets for this project (Rdev:Local:Projects:hello); see docs/discovery.md.\n");

        try
        {
            Git(project, "init", "--quiet", "--initial-branch=main");
            Git(project, "add", ".");
            Git(project, "-c", "user.name=rdev", "-c", "user.email=rdev@localhost", "commit", "--quiet", "-m", "Sample project");
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Without git the folder is still a project; git commands in it will say so.
            Console.Error.WriteLine($"rdev: the sample project was created without a git repository: {ex.Message}");
        }
    }

    private static void Git(string workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("git", args, CancellationToken.None, workingDirectory).GetAwaiter().GetResult();
}
