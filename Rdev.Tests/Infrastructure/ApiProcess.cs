using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rdev.Tests.Infrastructure;

/// <summary>The built Rdev.Api as its own process on a free loopback port, configured like a Kubernetes Deployment.</summary>
public sealed class ApiProcess : IDisposable
{
    private ApiProcess(Process process, int port)
    {
        Process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process { get; }

    public Uri BaseAddress { get; }

    /// <param name="launcher">Programs that start dotnet, e.g. setpriv to run the API as another user.</param>
    public static ApiProcess Start(
        string connectionString, IEnumerable<KeyValuePair<string, string?>> settings, IReadOnlyList<string>? launcher = null)
    {
        var port = FreePort();
        var dll = Path.Combine(RepositoryRoot.Path, "Rdev.Api", "bin", RepositoryRoot.Configuration, "net10.0", "Rdev.Api.dll");
        string[] argv = [.. launcher ?? [], "dotnet", dll];
        var info = new ProcessStartInfo(argv[0], argv[1..])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["ConnectionStrings__rdevdb"] = connectionString;
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__")] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ApiProcess(process, port);
    }

    /// <summary>Waits until <paramref name="path"/> answers with a success status (the API has migrated and started).</summary>
    public async Task WaitUntilServingAsync(HttpClient client, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await client.GetAsync(path)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline || Process.HasExited)
            {
                Assert.Fail($"The API process did not serve {path}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Sends a POSIX signal (15 = SIGTERM) to the process.</summary>
    public int Signal(int signal) => Kill(Process.Id, signal);

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }

        Process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
