using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// One exec WebSocket (v4.channel.k8s.io, no tty; stdin only through <see cref="SendStdinAsync"/>) read by a single
/// loop: channel 1 is stdout, 2 stderr, 3 the final Status. Output goes into a small bounded channel in arrival order. When its reader falls behind the
/// loop stops receiving, TCP flow control pushes back through the API server and kubelet, and the command blocks on
/// its pipe: memory stays bounded (about 1 MiB per exec) however much the command writes.
/// </summary>
/// <remarks>
/// KubernetesClient's StreamDemuxer is not used: it buffers each channel without bound (up to 40 MB, then throws),
/// reads with blocking waits, and never answers the server's close frame.
/// </remarks>
internal sealed partial class ExecConnection : IAsyncDisposable
{
    private const byte StdoutChannel = 1, StderrChannel = 2, StatusChannel = 3;
    private const int ReceiveBufferBytes = 32 * 1024;
    private const int OutputCapacity = 32;
    private const int MaxStatusBytes = 64 * 1024;

    private readonly WebSocket socket;
    private readonly string label;
    private readonly ILogger logger;
    private readonly Channel<OutputChunk> output = Channel.CreateBounded<OutputChunk>(
        new BoundedChannelOptions(OutputCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource<long> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly byte[] markerLine = new byte[ExecWrapper.MaxMarkerLineBytes];
    private readonly MemoryStream status = new();
    private readonly Task receiving;
    private int markerLength;
    private bool awaitingMarker;
    private int disposed;

    /// <param name="expectMarker">Whether the first stderr line is the wrapper's process group marker (start) or not (signal).</param>
    /// <param name="label">Names the exec in log messages, e.g. the project and pod.</param>
    public ExecConnection(WebSocket socket, bool expectMarker, string label, ILogger logger)
    {
        this.socket = socket;
        this.label = label;
        this.logger = logger;
        awaitingMarker = expectMarker;
        if (!expectMarker)
        {
            started.SetResult(0);
        }
        receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The process group id from the marker; 0 when the command did not start (see <see cref="StartFailure"/>).</summary>
    public Task<long> Started => started.Task;

    /// <summary>Why the command did not start, for the log (the wrapper's first stderr line or the exit status).</summary>
    public string? StartFailure { get; private set; }

    /// <summary>The exit code from the final Status, or <see cref="KubernetesCommandRunner.LostExitCode"/> when there was none.</summary>
    public Task<int> Exited => exited.Task;

    public ChannelReader<OutputChunk> Output => output.Reader;

    /// <summary>
    /// Sends <paramref name="data"/> on channel 0 (stdin), in frames of at most <see cref="ReceiveBufferBytes"/>. Only
    /// for an exec opened with stdin; one sender at a time. v4 has no end-of-input signal, so the process must know how
    /// many bytes to read (the workspace file scripts get the count as an argument).
    /// </summary>
    public async Task SendStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var frame = new byte[Math.Min(data.Length, ReceiveBufferBytes) + 1];
        do
        {
            var take = Math.Min(data.Length, ReceiveBufferBytes);
            data.Span[..take].CopyTo(frame.AsSpan(1));
            await socket.SendAsync(frame.AsMemory(0, take + 1), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            data = data[take..];
        }
        while (!data.IsEmpty);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        await stop.CancelAsync();
        socket.Abort();
        await receiving;
        socket.Dispose();
        stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[ReceiveBufferBytes];
        byte channel = 0;
        var inMessage = false;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await AnswerCloseAsync();
                    return;
                }
                var data = buffer.AsMemory(0, result.Count);
                if (!inMessage)
                {
                    if (data.IsEmpty)
                    {
                        // The channel byte is still to come (or an empty message: v4 opens each channel with one).
                        continue;
                    }
                    channel = data.Span[0];
                    data = data[1..];
                }
                inMessage = !result.EndOfMessage;
                if (!data.IsEmpty)
                {
                    await DispatchAsync(channel, data);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            LogDropped(logger, e, label);
        }
        catch (Exception e)
        {
            // Whatever it was, the output ends here and the exit is unknown; the loop must not fault unobserved.
            LogReadFailed(logger, e, label);
        }
        finally
        {
            Finish();
        }
    }

    private async ValueTask DispatchAsync(byte channel, ReadOnlyMemory<byte> data)
    {
        switch (channel)
        {
            case StdoutChannel:
                await EmitAsync(OutputStream.Stdout, data);
                break;
            case StderrChannel:
                if (awaitingMarker)
                {
                    data = TakeMarker(data);
                }
                if (!data.IsEmpty)
                {
                    await EmitAsync(OutputStream.Stderr, data);
                }
                break;
            case StatusChannel when status.Length + data.Length <= MaxStatusBytes:
                status.Write(data.Span);
                break;
        }
    }

    private ValueTask EmitAsync(OutputStream stream, ReadOnlyMemory<byte> data)
    {
        var chunk = new OutputChunk(stream, data.ToArray());
        if (!awaitingMarker)
        {
            return output.Writer.WriteAsync(chunk, stop.Token);
        }
        // Before the marker nobody reads yet; the marker precedes the command, so only a little stdout can race it.
        if (!output.Writer.TryWrite(chunk))
        {
            FailStart("more output than the buffer holds arrived before the process group marker");
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Collects the first stderr line; returns what follows it (user output) once it is complete.</summary>
    private ReadOnlyMemory<byte> TakeMarker(ReadOnlyMemory<byte> data)
    {
        var newline = data.Span.IndexOf((byte)'\n');
        var take = newline < 0 ? data.Length : newline;
        if (markerLength + take > markerLine.Length)
        {
            FailStart("the first line on stderr is not the process group marker");
            return ReadOnlyMemory<byte>.Empty;
        }
        data.Span[..take].CopyTo(markerLine.AsSpan(markerLength));
        markerLength += take;
        if (newline < 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        var line = markerLine.AsSpan(0, markerLength);
        if (ExecWrapper.ParseMarker(line) is { } processGroup)
        {
            awaitingMarker = false;
            started.TrySetResult(processGroup);
        }
        else
        {
            FailStart($"the wrapper wrote \"{Encoding.UTF8.GetString(line)}\"");
        }
        return data[(newline + 1)..];
    }

    private void FailStart(string reason)
    {
        awaitingMarker = false;
        StartFailure = reason;
        started.TrySetResult(0);
    }

    private void Finish()
    {
        output.Writer.TryComplete();
        var exitCode = ExecStatus.ExitCode(status.GetBuffer().AsSpan(0, (int)status.Length), out var reason);
        if (awaitingMarker)
        {
            var partial = markerLength > 0 ? $", after \"{Encoding.UTF8.GetString(markerLine, 0, markerLength)}\"" : "";
            FailStart(exitCode is { } code
                ? $"the wrapper exited with code {code} before the process started{partial}"
                : $"the exec ended before the process started (status reason {reason ?? "none"}){partial}");
        }
        if (exitCode is null && Volatile.Read(ref disposed) == 0 && started.Task.Result != 0)
        {
            LogEndedWithoutStatus(logger, label, reason ?? "connection lost");
        }
        exited.TrySetResult(exitCode ?? KubernetesCommandRunner.LostExitCode);
    }

    private async Task AnswerCloseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The server may already have gone; its status has arrived.
        }
    }

    [LoggerMessage(LogLevel.Debug, "Exec connection for {Exec} dropped")]
    private static partial void LogDropped(ILogger logger, Exception exception, string exec);

    [LoggerMessage(LogLevel.Warning, "Reading the exec connection for {Exec} failed")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string exec);

    [LoggerMessage(LogLevel.Warning, "Exec for {Exec} ended without an exit status (reason {Reason}); the command's outcome is unknown")]
    private static partial void LogEndedWithoutStatus(ILogger logger, string exec, string reason);
}
