using System.Diagnostics;
using System.Text;

namespace Rdev.Tests.Cli;

/// <summary>
/// One run of the installed <c>rdev</c> as a real process, its stdout and stderr kept apart and readable while it runs,
/// stdin a pipe (not a terminal). Only the environment given here reaches it: no RDEV_URL or RDEV_API_KEY of the
/// test process, and its own config folder.
/// </summary>
public sealed class RdevProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private Task stdoutRead = Task.CompletedTask;
    private Task stderrRead = Task.CompletedTask;

    private RdevProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public string Stdout => Read(stdout);

    public string Stderr => Read(stderr);

    /// <param name="terminal">Run it on a pseudo-terminal (through script(1)), as a person at a terminal does: its stdin,
    /// stdout and stderr are the terminal, what <see cref="TypeAsync"/> sends is typed (\x03 is Ctrl+C), and both outputs
    /// arrive in <see cref="Stdout"/>.</param>
    public static async Task<RdevProcess> StartAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, bool terminal = false)
    {
        var rdev = await RdevTool.PathAsync();
        var info = new ProcessStartInfo(terminal ? "script" : rdev)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var argv = terminal
            ? new[] { "-qfec", string.Join(' ', new[] { rdev }.Concat(args).Select(Quote)), "/dev/null" }
            : args;
        foreach (var arg in argv)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("RDEV_URL");
        info.Environment.Remove("RDEV_API_KEY");
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var started = new RdevProcess(Process.Start(info)!);
        // Read as it comes, not by lines: a question such as "cancel the command? [y/N] " ends without a newline.
        started.stdoutRead = ReadAllAsync(started.process.StandardOutput, started.stdout);
        started.stderrRead = ReadAllAsync(started.process.StandardError, started.stderr);
        return started;
    }

    /// <summary>Waits for the exit and the end of both outputs; returns the exit code.</summary>
    public async Task<int> WaitAsync(TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(limit.Token);
            await Task.WhenAll(stdoutRead, stderrRead).WaitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"rdev did not exit in time.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return process.ExitCode;
    }

    /// <summary>Writes <paramref name="text"/> to its stdin (on a terminal: types it).</summary>
    public async Task TypeAsync(string text)
    {
        await process.StandardInput.WriteAsync(text);
        await process.StandardInput.FlushAsync();
    }

    /// <summary>Closes its stdin, as a script that has nothing to say does.</summary>
    public void CloseInput() => process.StandardInput.Close();

    /// <summary>Sends a POSIX signal (2 = SIGINT, as Ctrl+C does).</summary>
    public int Signal(int signal) => Kill(process.Id, signal);

    public override string ToString() => $"stdout:\n{Stdout}\nstderr:\n{Stderr}";

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
    }

    private static Task ReadAllAsync(StreamReader reader, StringBuilder buffer) => Task.Run(async () =>
    {
        var chunk = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(chunk)) > 0)
        {
            lock (buffer)
            {
                buffer.Append(chunk, 0, read);
            }
        }
    });

    private static string Read(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''") + "'";

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
