using System.Globalization;
using System.Runtime.CompilerServices;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>A command started by <see cref="KubernetesCommandRunner"/>: its exec connection and its process group in the pod.</summary>
/// <remarks>
/// Disposing closes the connection only. A real cluster usually leaves a non-tty exec running when its client goes
/// away, so the command may keep running; <see cref="SignalAsync"/> (here, or
/// <see cref="KubernetesCommandRunner.SignalAsync(RunTarget, string, ProcessSignal, CancellationToken)"/> with the
/// handle) still reaches it, since a signal is an exec of its own.
/// </remarks>
internal sealed class KubernetesProcess(ExecConnection connection, RunTarget target, long processGroup, KubernetesCommandRunner runner) : IRunningProcess
{
    public string Handle { get; } = processGroup.ToString(CultureInfo.InvariantCulture);

    public async IAsyncEnumerable<OutputChunk> ReadOutputAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in connection.Output.ReadAllAsync(cancellationToken))
        {
            yield return chunk;
        }
    }

    /// <summary>The exit code, or <see cref="KubernetesCommandRunner.LostExitCode"/> when the connection ended without a status.</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => connection.Exited.WaitAsync(cancellationToken);

    public Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken)
    {
        // Once the status has arrived the group has ended and its id may be reused by another process: leave it.
        if (connection.Exited.IsCompletedSuccessfully && connection.Exited.Result != KubernetesCommandRunner.LostExitCode)
        {
            return Task.CompletedTask;
        }
        return runner.SignalAsync(target, processGroup, signal, cancellationToken);
    }

    private readonly SemaphoreSlim inputGate = new(1, 1);
    private bool inputClosed;

    public Task WriteInputLineAsync(string line, CancellationToken cancellationToken) =>
        SendAsync(line, close: false, cancellationToken);

    public Task CloseInputAsync(CancellationToken cancellationToken) =>
        SendAsync(ExecWrapper.EndOfInput, close: true, cancellationToken);

    // The exec's stdin channel; closing is the wrapper's end-of-input line (see ExecWrapper.InputStartScript).
    private async Task SendAsync(string line, bool close, CancellationToken cancellationToken)
    {
        await inputGate.WaitAsync(cancellationToken);
        try
        {
            if (inputClosed)
            {
                if (close)
                {
                    return;
                }

                throw new IOException("The process's input is closed.");
            }

            inputClosed = close;
            await connection.SendStdinAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            throw new IOException("The exec connection no longer takes input.", ex);
        }
        finally
        {
            inputGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await connection.DisposeAsync();
        inputGate.Dispose();
    }
}
