using System.Diagnostics;
using System.Text;

namespace Rdev.Tests.Kubernetes;

/// <summary>A fact that is skipped, with the reason shown, when kubectl is not on PATH.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Executable is null)
        {
            Skip = "kubectl is not on PATH: install kubectl 1.32 to run the kubectl contract tests";
        }
    }
}

/// <summary>Runs the real kubectl against a kubeconfig, with a private cache dir and a request timeout on every call.</summary>
public sealed class Kubectl(string kubeconfig, string cacheDir)
{
    public static string? Executable { get; } = FindOnPath("kubectl");

    /// <summary>Runs kubectl to completion (killed after <paramref name="timeout"/>), feeding <paramref name="stdin"/> if given.</summary>
    public async Task<KubectlResult> RunAsync(TimeSpan timeout, string? stdin, params string[] args)
    {
        using var process = Start(stdin is not null, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(" ", args)} did not finish within {timeout}; stderr: {await stderr}");
        }
        return new KubectlResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts kubectl and leaves it running (for -w); the caller reads and kills it.</summary>
    public Process Start(bool redirectStdin, params string[] args)
    {
        var info = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("kubectl is not on PATH"))
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        // Global flags go first: anything after "--" belongs to the remote command.
        foreach (var arg in new[] { "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, "--request-timeout=10s" }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["KUBECONFIG"] = kubeconfig;
        return Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

public sealed record KubectlResult(int ExitCode, string Stdout, string Stderr);
