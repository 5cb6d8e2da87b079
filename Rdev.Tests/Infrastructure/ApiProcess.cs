using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// A built service (Rdev.Api unless told otherwise) as its own process on a free loopback port, configured like a
/// Kubernetes Deployment: settings become environment variables (<c>:</c> as <c>__</c>).
/// </summary>
public sealed class ApiProcess : IDisposable
{
    private ApiProcess(Process process, int port)
    {
        Process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process { get; }

    public Uri BaseAddress { get; }

    /// <summary>What the process has written to stdout and stderr so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    private readonly System.Text.StringBuilder output = new();

    /// <param name="launcher">Programs that start dotnet, e.g. setpriv to run the service as another user.</param>
    /// <param name="port">The port to listen on (e.g. a restart's, where clients reconnect); a free one otherwise.</param>
    public static ApiProcess Start(
        string connectionString,
        IEnumerable<KeyValuePair<string, string?>> settings,
        string project = "Rdev.Api",
        IReadOnlyList<string>? launcher = null,
        int? port = null)
    {
        port ??= FreePort();
        var dll = Path.Combine(RepositoryRoot.Path, project, "bin", RepositoryRoot.Configuration, "net10.0", $"{project}.dll");
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
        var started = new ApiProcess(process, port.Value);
        process.OutputDataReceived += (_, e) => started.Append(e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits until <paramref name="path"/> answers with a success status (the API has migrated and started).</summary>
    public Task WaitUntilServingAsync(HttpClient client, string path) =>
        Eventually.TrueAsync(async () =>
        {
            Assert.False(Process.HasExited, $"The process exited before it served {path}:\n{Output}");
            try
            {
                return (await client.GetAsync(path)).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false; // Not listening yet.
            }
        }, $"the process serves {path}", TimeSpan.FromSeconds(60));

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            // The start and the end say what went wrong; a long-running process need not keep everything.
            if (output.Length < 64 * 1024)
            {
                output.AppendLine(line);
            }
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
