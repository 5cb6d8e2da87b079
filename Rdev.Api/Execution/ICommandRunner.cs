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
}

public enum OutputStream { Stdout, Stderr }

public enum ProcessSignal { Terminate = 15, Kill = 9 }

/// <summary>Raw bytes as the process wrote them; may split a UTF-8 character or a line.</summary>
public readonly record struct OutputChunk(OutputStream Stream, ReadOnlyMemory<byte> Data);
