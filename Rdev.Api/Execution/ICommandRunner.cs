namespace Rdev.Api.Execution;

/// <summary>
/// Where commands run: a pod through the Kubernetes exec API, or a child process in a local folder.
/// Everything above this port (limits, persistence, streaming) is written once for both.
/// </summary>
/// <remarks>
/// A started process is identified by <see cref="IRunningProcess.Handle"/> (its process group), which is
/// persisted with the command. Re-attaching to a process that outlived the API replica that started it
/// (SPEC section 6) is meant to be a second method here, <c>AttachAsync(target, handle, offset)</c>, over the
/// same <see cref="IRunningProcess"/> shape.
/// </remarks>
public interface ICommandRunner
{
    /// <summary>
    /// Starts <paramref name="argv"/> (program and arguments, never a shell string) with the project's workspace as
    /// working directory, in a new process group so that the whole tree can be signalled.
    /// </summary>
    /// <exception cref="RuntimeUnavailableException">The pod or folder cannot be reached.</exception>
    Task<IRunningProcess> StartAsync(RunTarget target, IReadOnlyList<string> argv, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="StartAsync(RunTarget, IReadOnlyList{string}, CancellationToken)"/>, with stdin kept open for
    /// <see cref="IRunningProcess.WriteInputLineAsync"/> when <see cref="StartOptions.Input"/> is set (a Claude session),
    /// and extra environment variables where the runtime supports them.
    /// </summary>
    Task<IRunningProcess> StartAsync(RunTarget target, IReadOnlyList<string> argv, StartOptions start, CancellationToken cancellationToken);
}

/// <summary>How to start a process beyond its argv.</summary>
/// <param name="Input">Keep stdin open for the caller to write; otherwise the process gets an immediate end of input.</param>
/// <param name="Environment">
/// Extra environment variables (local runtime only: a pod's environment is its own, set in its spec). Values may be
/// secrets: never log them.
/// </param>
public sealed record StartOptions(bool Input = false, IReadOnlyDictionary<string, string>? Environment = null)
{
    public static readonly StartOptions None = new();
}

/// <summary>Where to run: the project's workspace, and for Kubernetes its pod and container.</summary>
public sealed record RunTarget(string Project, string Workspace, string? Namespace = null, string? Pod = null, string? Container = null);

public interface IRunningProcess : IAsyncDisposable
{
    /// <summary>The process group id in the pod or on the host, for signals (and, later, re-attaching).</summary>
    string Handle { get; }

    /// <summary>
    /// Output in arrival order, stdout and stderr interleaved, until both are closed. Read it once; the process's
    /// pipes are not drained otherwise.
    /// </summary>
    IAsyncEnumerable<OutputChunk> ReadOutputAsync(CancellationToken cancellationToken);

    /// <summary>The exit code once the process has exited (128 + signal number when a signal ended it).</summary>
    Task<int> WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="signal"/> to the whole process group.</summary>
    Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="line"/> and a newline to the process's stdin (started with <see cref="StartOptions.Input"/>).
    /// One writer at a time. Throws <see cref="IOException"/> once the process no longer reads its input.
    /// </summary>
    Task WriteInputLineAsync(string line, CancellationToken cancellationToken);

    /// <summary>Ends the process's stdin; a second call does nothing.</summary>
    Task CloseInputAsync(CancellationToken cancellationToken);
}

public enum OutputStream { Stdout, Stderr }

public enum ProcessSignal { Terminate = 15, Kill = 9 }

/// <summary>Raw bytes as the process wrote them; may split a UTF-8 character or a line.</summary>
public readonly record struct OutputChunk(OutputStream Stream, ReadOnlyMemory<byte> Data);
