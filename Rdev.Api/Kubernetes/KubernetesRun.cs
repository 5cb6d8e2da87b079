using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// A command in a pod, attached through the follow script of <see cref="RunFolder"/>: one exec streams the spool as
/// frames from the current offsets. When that exec ends without its final frame (API server restart, network drop) the
/// loop opens another from where it stopped, so nothing is lost or read twice; a pod that is gone ends the run as lost.
/// Disposing closes the exec only: the command keeps running in the pod.
/// </summary>
internal sealed partial class KubernetesRun : IRunningProcess
{
    private readonly KubernetesCommandRunner runner;
    private readonly RunTarget target;
    private readonly Guid id;
    private readonly ILogger logger;
    private readonly Channel<OutputChunk> output = Channel.CreateBounded<OutputChunk>(
        new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource<int> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly Task following;
    private RunOffsets offsets;

    public KubernetesRun(KubernetesCommandRunner runner, RunTarget target, Guid id, long processGroup, RunOffsets offsets, ExecConnection? first, ILogger logger)
    {
        this.runner = runner;
        this.target = target;
        this.id = id;
        this.offsets = offsets;
        this.logger = logger;
        Handle = processGroup.ToString(CultureInfo.InvariantCulture);
        following = Task.Run(() => FollowAsync(first));
    }

    /// <summary>The process group; for an attached run known once the follow script has named it.</summary>
    public string Handle { get; private set; }

    public async IAsyncEnumerable<OutputChunk> ReadOutputAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in output.Reader.ReadAllAsync(cancellationToken))
        {
            yield return chunk;
        }
    }

    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => exit.Task.WaitAsync(cancellationToken);

    // The script checks the exit file first: a group that has ended may have its id reused.
    public Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken) =>
        exit.Task.IsCompletedSuccessfully ? Task.CompletedTask : runner.RunScriptAsync(target, RunFolder.SignalCommand("", id, signal), "kubernetes signal", cancellationToken);

    public async Task WriteInputLineAsync(string line, CancellationToken cancellationToken)
    {
        if ((await runner.RunScriptAsync(target, RunFolder.InputCommand("", id, line), "kubernetes input", cancellationToken)).ExitCode != 0)
        {
            throw new InvalidOperationException("The command's input is closed or its run is gone.");
        }
    }

    public Task CloseInputAsync(CancellationToken cancellationToken) =>
        runner.RunScriptAsync(target, RunFolder.CloseInputCommand("", id), "kubernetes input", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await following.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }

    private async Task FollowAsync(ExecConnection? connection)
    {
        var failures = 0;
        try
        {
            while (true)
            {
                try
                {
                    connection ??= await runner.OpenFollowAsync(target, id, offsets, stop.Token);
                    var end = await ReadFramesAsync(connection);
                    await connection.DisposeAsync();
                    connection = null;
                    switch (end)
                    {
                        case { } code when code >= 0:
                            exit.TrySetResult(code);
                            return;
                        case Gone:
                            exit.TrySetException(new RunLostException("The command's run folder is gone from the pod."));
                            return;
                        case Lost:
                            exit.TrySetException(new RunLostException("The command's process in the pod ended without recording an exit code."));
                            return;
                    }

                    failures = 0; // The exec ended early: follow again from where it stopped.
                }
                catch (RuntimeUnavailableException ex) when (ex.Blame == RuntimeBlame.Project)
                {
                    exit.TrySetException(new RunLostException(ex.Message, ex));
                    return;
                }
                catch (RuntimeUnavailableException ex)
                {
                    LogFollowRetry(logger, id, ex);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 << Math.Min(failures++, 5))), stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            exit.TrySetCanceled(stop.Token);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            output.Writer.TryComplete();
        }
    }

    private const int Gone = -2, Lost = -3, Dropped = -4;

    /// <summary>Reads frames until the final one: the exit code, <see cref="Gone"/>, <see cref="Lost"/>, or <see cref="Dropped"/> when the exec ended first.</summary>
    private async Task<int> ReadFramesAsync(ExecConnection connection)
    {
        var header = new StringBuilder();
        var stream = OutputStream.Stdout;
        long remaining = 0;
        await foreach (var chunk in connection.Output.ReadAllAsync(stop.Token))
        {
            if (chunk.Stream != OutputStream.Stdout)
            {
                continue; // The script's own stderr: diagnostics only.
            }

            var data = chunk.Data;
            while (!data.IsEmpty)
            {
                if (remaining > 0)
                {
                    var take = (int)Math.Min(remaining, data.Length);
                    await output.Writer.WriteAsync(new OutputChunk(stream, data[..take].ToArray()), stop.Token);
                    offsets = offsets.Advance(stream, take);
                    remaining -= take;
                    data = data[take..];
                    continue;
                }

                var newline = data.Span.IndexOf((byte)'\n');
                var part = newline < 0 ? data : data[..newline];
                if (header.Length + part.Length > 64)
                {
                    throw new RuntimeUnavailableException("The follow script wrote an unexpected frame.", RuntimeBlame.Runtime);
                }

                header.Append(Encoding.ASCII.GetString(part.Span));
                data = newline < 0 ? ReadOnlyMemory<byte>.Empty : data[(newline + 1)..];
                if (newline < 0)
                {
                    continue;
                }

                var line = header.ToString();
                header.Clear();
                switch (line.Split(' '))
                {
                    case ["o" or "e", var n] when long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var size):
                        stream = line[0] == 'o' ? OutputStream.Stdout : OutputStream.Stderr;
                        remaining = size;
                        break;
                    case ["exit", var n] when int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var code):
                        return code;
                    case ["gone"]:
                        return Gone;
                    case ["lost"]:
                        return Lost;
                    case ["run", var pgid]:
                        Handle = pgid;
                        break;
                    default:
                        throw new RuntimeUnavailableException("The follow script wrote an unexpected frame.", RuntimeBlame.Runtime);
                }
            }
        }

        return Dropped;
    }

    [LoggerMessage(LogLevel.Warning, "Following command {CommandId} in its pod failed; trying again")]
    private static partial void LogFollowRetry(ILogger logger, Guid commandId, Exception exception);
}
