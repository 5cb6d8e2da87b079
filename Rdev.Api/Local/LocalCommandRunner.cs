using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Local;

/// <summary>
/// The local runtime: a child process in the project folder, started through <c>setsid</c> so that it leads a new
/// process group (its pid is the group id) and cancel reaches every process it started. A root API first drops to
/// the user <see cref="LocalUserPolicy"/> picks, through <c>setpriv</c> (util-linux), which then executes setsid.
/// This is not a sandbox: a command can do whatever that OS user can.
/// </summary>
public sealed partial class LocalCommandRunner(LocalUserPolicy users, ILogger<LocalCommandRunner> logger) : ICommandRunner
{
    // rdev's own configuration and telemetry credentials must not leak into user commands.
    private static readonly string[] HiddenVariablePrefixes = ["ConnectionStrings", "Rdev", "OTEL_", "ASPNETCORE_", "DOTNET_"];

    // Per-user folders of the API's user, which another user cannot use (and should not be pointed at).
    private static readonly string[] UserFolderVariables = ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"];

    public Task<IRunningProcess> StartAsync(RunTarget target, IReadOnlyList<string> argv, CancellationToken cancellationToken) =>
        StartAsync(target, argv, StartOptions.None, cancellationToken);

    public Task<IRunningProcess> StartAsync(RunTarget target, IReadOnlyList<string> argv, StartOptions start, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(target.Workspace))
        {
            throw new RuntimeUnavailableException($"The folder of project '{target.Project}' does not exist.", RuntimeBlame.Project);
        }

        var user = users.For(target.Workspace);
        var info = new ProcessStartInfo(user is null ? "setsid" : "setpriv")
        {
            WorkingDirectory = target.Workspace,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (user is not null)
        {
            // --init-groups needs a passwd entry; a bare uid gets no supplementary groups.
            var groups = user.Name is null ? "--clear-groups" : "--init-groups";
            string[] drop = [$"--reuid={user.Uid}", $"--regid={user.Gid}", groups, "--", "setsid"];
            foreach (var arg in drop)
            {
                info.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in argv)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (HiddenVariablePrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                info.Environment.Remove(name);
            }
        }

        if (user is not null)
        {
            SetUserEnvironment(info.Environment, user);
        }

        foreach (var (name, value) in start.Environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new RuntimeUnavailableException("The process did not start.", RuntimeBlame.Project);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RuntimeUnavailableException("The process could not be started.", RuntimeBlame.Project, ex);
        }

        // Commands get an immediate end of input rather than waiting for input nobody will send.
        if (!start.Input)
        {
            process.StandardInput.Close();
        }

        LogStarted(logger, process.Id, target.Project);
        return Task.FromResult<IRunningProcess>(new LocalProcess(process, start.Input));
    }

    private static void SetUserEnvironment(IDictionary<string, string?> environment, OsUser user)
    {
        foreach (var name in UserFolderVariables)
        {
            environment.Remove(name);
        }

        // No HOME at all rather than the API's own (git fails on a HOME it may not read).
        SetOrRemove(environment, "HOME", Directory.Exists(user.Home) ? user.Home : null);
        SetOrRemove(environment, "USER", user.Name);
        SetOrRemove(environment, "LOGNAME", user.Name);
    }

    private static void SetOrRemove(IDictionary<string, string?> environment, string name, string? value)
    {
        if (value is null)
        {
            environment.Remove(name);
        }
        else
        {
            environment[name] = value;
        }
    }

    private sealed class LocalProcess : IRunningProcess
    {
        private readonly Process process;
        private readonly Channel<OutputChunk> output = Channel.CreateBounded<OutputChunk>(
            new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        private readonly Task pumps;
        private readonly SemaphoreSlim inputGate = new(1, 1);
        private bool inputClosed;

        public LocalProcess(Process process, bool input)
        {
            this.process = process;
            inputClosed = !input;
            Handle = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            pumps = Task.WhenAll(
                PumpAsync(process.StandardOutput.BaseStream, OutputStream.Stdout),
                PumpAsync(process.StandardError.BaseStream, OutputStream.Stderr))
                .ContinueWith(t => output.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        }

        public string Handle { get; }

        public async IAsyncEnumerable<OutputChunk> ReadOutputAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var chunk in output.Reader.ReadAllAsync(cancellationToken))
            {
                yield return chunk;
            }
        }

        public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
        {
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode;
        }

        public Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken)
        {
            // A negative pid addresses the whole process group. ESRCH (already gone) is fine.
            _ = Kill(-process.Id, (int)signal);
            return Task.CompletedTask;
        }

        public async Task WriteInputLineAsync(string line, CancellationToken cancellationToken)
        {
            await inputGate.WaitAsync(cancellationToken);
            try
            {
                ObjectDisposedException.ThrowIf(inputClosed, this);
                var input = process.StandardInput.BaseStream;
                await input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
                await input.FlushAsync(cancellationToken);
            }
            catch (ObjectDisposedException ex)
            {
                throw new IOException("The process's input is closed.", ex);
            }
            finally
            {
                inputGate.Release();
            }
        }

        public async Task CloseInputAsync(CancellationToken cancellationToken)
        {
            await inputGate.WaitAsync(cancellationToken);
            try
            {
                if (!inputClosed)
                {
                    inputClosed = true;
                    process.StandardInput.Close();
                }
            }
            catch (IOException)
            {
                // The process already closed its end.
            }
            finally
            {
                inputGate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            // Pumps that fail or outlast the wait have nothing left to deliver: the process is going away.
            await pumps.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            process.Dispose();
            inputGate.Dispose();
        }

        private async Task PumpAsync(Stream stream, OutputStream kind)
        {
            while (true)
            {
                var buffer = new byte[64 * 1024];
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                await output.Writer.WriteAsync(new OutputChunk(kind, buffer.AsMemory(0, read)));
            }
        }

        [DllImport("libc", EntryPoint = "kill")]
        private static extern int Kill(int pid, int signal);
    }

    [LoggerMessage(LogLevel.Debug, "Started local process group {ProcessGroup} for project {Project}")]
    private static partial void LogStarted(ILogger logger, int processGroup, string project);
}
