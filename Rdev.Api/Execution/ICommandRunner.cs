namespace Rdev.Api.Execution;

/// <summary>
/// Where commands run: a pod through the Kubernetes exec API, or a process on this host in a local folder.
/// Everything above this port (limits, persistence, streaming) is written once for both.
/// </summary>
/// <remarks>
/// A command runs detached from whoever started it, with a run folder of its own (<see cref="RunFolder"/>): its
/// output is spooled there and its exit code recorded there, so any API replica can <see cref="AttachAsync"/> to it
/// later from the byte offsets it has stored, after a crash, a SIGTERM or a rollout (SPEC section 6, durable runs).
/// </remarks>
public interface ICommandRunner
{
    /// <summary>
    /// Starts <see cref="RunRequest.Argv"/> (program and arguments, never a shell string) with the project's workspace
    /// as working directory, detached, in a new process group so that the whole tree can be signalled, and attaches
    /// to it from offset 0.
    /// </summary>
    /// <exception cref="RuntimeUnavailableException">The pod or folder cannot be reached.</exception>
    Task<IRunningProcess> StartAsync(RunTarget target, RunRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Attaches to a command started earlier (by any replica): its output from <paramref name="offsets"/> on, then its
    /// exit code. When the run folder is gone, the returned process's <see cref="IRunningProcess.WaitForExitAsync"/>
    /// throws <see cref="RunLostException"/>.
    /// </summary>
    /// <exception cref="RuntimeUnavailableException">The runtime cannot be reached (a missing pod is <see cref="RuntimeBlame.Project"/>).</exception>
    Task<IRunningProcess> AttachAsync(RunTarget target, Guid commandId, RunOffsets offsets, CancellationToken cancellationToken);

    /// <summary>Removes the command's run folder (once its output and exit code are stored). Gone already is fine.</summary>
    Task RemoveRunAsync(RunTarget target, Guid commandId, CancellationToken cancellationToken);

    /// <summary>The ids of the run folders where <paramref name="target"/> runs commands (its pod; locally all of them).</summary>
    Task<IReadOnlyList<Guid>> ListRunsAsync(RunTarget target, CancellationToken cancellationToken);
}

/// <summary>What to start: the command's id (its run folder's name), its argv, whether it reads input, and the spool's bound.</summary>
/// <param name="Input">True: the process's stdin follows <see cref="IRunningProcess.WriteInputLineAsync"/>; false: /dev/null.</param>
/// <param name="MaxOutputBytes">Bytes spooled per stream at most; the process keeps running past it, the rest is dropped.</param>
/// <param name="Environment">
/// Extra environment variables (local runtime only: a pod's environment is its own, set in its spec), e.g. the Claude
/// CLI's <c>Rdev:Claude:Environment</c>. Values may be secrets: never log them (ToString leaves them out).
/// </param>
public sealed record RunRequest(
    Guid CommandId, IReadOnlyList<string> Argv, bool Input = false, long MaxOutputBytes = RunRequest.Unbounded,
    IReadOnlyDictionary<string, string>? Environment = null)
{
    public const long Unbounded = 1L << 50;

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"CommandId = {CommandId}, Argv = [{Argv.Count} items], Input = {Input}, MaxOutputBytes = {MaxOutputBytes}, ");
        builder.Append($"Environment = [{Environment?.Count ?? 0} variables]");
        return true;
    }
}

/// <summary>Bytes of each stream already consumed: attaching resumes exactly there.</summary>
public readonly record struct RunOffsets(long Stdout, long Stderr)
{
    public long this[OutputStream stream] => stream == OutputStream.Stdout ? Stdout : Stderr;

    public RunOffsets Advance(OutputStream stream, long bytes) =>
        stream == OutputStream.Stdout ? this with { Stdout = Stdout + bytes } : this with { Stderr = Stderr + bytes };
}

/// <summary>Where to run: the project's workspace, and for Kubernetes its pod and container.</summary>
public sealed record RunTarget(string Project, string Workspace, string? Namespace = null, string? Pod = null, string? Container = null);

public interface IRunningProcess : IAsyncDisposable
{
    /// <summary>The process group id in the pod or on the host, for signals.</summary>
    string Handle { get; }

    /// <summary>
    /// Output in arrival order per stream, from the offsets the process was attached at, until the command has ended
    /// and its spool is read. Read it once. Disposing stops reading; the command keeps running.
    /// </summary>
    IAsyncEnumerable<OutputChunk> ReadOutputAsync(CancellationToken cancellationToken);

    /// <summary>The exit code once the command has exited and its output is read (128 + n when signal n ended it).</summary>
    /// <exception cref="RunLostException">The command is gone without an exit code (run folder, process or pod gone).</exception>
    Task<int> WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="signal"/> to the whole process group, unless the command has already ended.</summary>
    Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken);

    /// <summary>Appends <paramref name="line"/> and a newline to the command's input (only for a <see cref="RunRequest.Input"/> run).</summary>
    Task WriteInputLineAsync(string line, CancellationToken cancellationToken);

    /// <summary>Ends the command's input: it reads what was written, then end of file.</summary>
    Task CloseInputAsync(CancellationToken cancellationToken);
}

public enum OutputStream { Stdout, Stderr }

public enum ProcessSignal { Terminate = 15, Kill = 9 }

/// <summary>Raw bytes as the process wrote them; may split a UTF-8 character or a line.</summary>
public readonly record struct OutputChunk(OutputStream Stream, ReadOnlyMemory<byte> Data);

/// <summary>The command is really gone: no exit code was recorded and its process (or pod, or run folder) no longer exists.</summary>
public sealed class RunLostException(string message, Exception? inner = null) : Exception(message, inner);

public static class CommandRunnerExtensions
{
    /// <summary>Starts <paramref name="argv"/> under a new id, without input and unbounded (for tests and tools).</summary>
    public static Task<IRunningProcess> StartAsync(
        this ICommandRunner runner, RunTarget target, IReadOnlyList<string> argv, CancellationToken cancellationToken) =>
        runner.StartAsync(target, new RunRequest(Guid.CreateVersion7(), argv), cancellationToken);
}
