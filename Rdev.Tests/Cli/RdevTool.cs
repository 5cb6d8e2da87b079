using System.Diagnostics;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Cli;

/// <summary>
/// The rdev CLI as a user gets it: Rdev.Cli packed with <c>dotnet pack</c> and installed with <c>dotnet tool install
/// --tool-path</c> from that package alone (no other package source, so it works offline), once per test run.
/// </summary>
public static class RdevTool
{
    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);

    /// <summary>The installed <c>rdev</c> executable.</summary>
    public static Task<string> PathAsync() => Installed.Value;

    private static async Task<string> InstallAsync()
    {
        var root = Directory.CreateTempSubdirectory("rdev-cli-tool-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(root, recursive: true);
        var packages = Path.Combine(root, "packages");
        var tools = Path.Combine(root, "tools");
        var project = Path.Combine(RepositoryRoot.Path, "Rdev.Cli", "Rdev.Cli.csproj");
        // The solution is built already (scripts/test.sh); packing what was built keeps the test from rebuilding it.
        await DotnetAsync(["pack", project, "-c", RepositoryRoot.Configuration, "--no-build", "-o", packages, "-nologo"]);

        var config = Path.Combine(root, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>
            """);
        await DotnetAsync(["tool", "install", "Rdev.Cli", "--tool-path", tools, "--configfile", config]);
        return Path.Combine(tools, "rdev");
    }

    private static async Task DotnetAsync(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(info.ArgumentList.Add);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}
