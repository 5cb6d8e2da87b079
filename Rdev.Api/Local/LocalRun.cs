using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Local;

/// <summary>
/// A local command attached through its run folder (<see cref="RunFolder"/>): one loop reads the spool files from the
/// given offsets as they grow, until the exit file is there and everything up to its recorded sizes is read. A run
/// whose keeper died without an exit file is lost. Disposing stops reading; the command keeps running.
/// </summary>
internal sealed partial class LocalRun : IRunningProcess
{
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(50);
    private readonly string folder;
    private readonly int processGroup;
    private readonly ILogger? logger;
    private readonly Channel<OutputChunk> output = Channel.CreateBounded<OutputChunk>(
        new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource<int> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly Task following;

    public LocalRun(string folder, int processGroup, RunOffsets offsets, ILogger? logger)
    {
        this.folder = folder;
        this.processGroup = processGroup;
        this.logger = logger;
        Handle = processGroup.ToString(CultureInfo.InvariantCulture);
        following = processGroup > 0 ? Task.Run(() => FollowAsync(offsets)) : Task.CompletedTask;
    }

    public string Handle { get; }

    /// <summary>A run whose folder (or process group file) is missing: no output, and its exit is <see cref="RunLostException"/>.</summary>
    public static LocalRun Lost(string folder)
    {
        var run = new LocalRun(folder, 0, default, null);
        run.output.Writer.TryComplete();
        run.exit.TrySetException(new RunLostException("The command's run folder is gone."));
        return run;
    }

    public static int? ReadProcessGroup(string folder) =>
        Read(Path.Combine(folder, "pgid")) is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pgid) && pgid > 1
            ? pgid : null;

    public async IAsyncEnumerable<OutputChunk> ReadOutputAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in output.Reader.ReadAllAsync(cancellationToken))
        {
            yield return chunk;
        }
    }

    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => exit.Task.WaitAsync(cancellationToken);

    public Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken)
    {
        // Once the exit file is there the group has ended and its id may belong to someone else: leave it.
        if (processGroup > 1 && !File.Exists(Path.Combine(folder, "exit")))
        {
            // A negative pid addresses the whole process group. ESRCH (already gone) is fine.
            _ = NativeUsers.Signal(-processGroup, (int)signal);
        }

        return Task.CompletedTask;
    }

    public async Task WriteInputLineAsync(string line, CancellationToken cancellationToken)
    {
        EnsureInputOpen();
        await using var input = new FileStream(Path.Combine(folder, "in"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        // One write: a line is never interleaved with another writer's.
        await input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
    }

    public Task CloseInputAsync(CancellationToken cancellationToken)
    {
        EnsureInputOpen();
        File.WriteAllBytes(Path.Combine(folder, "in.closed"), []);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await following.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }

    private void EnsureInputOpen()
    {
        if (!File.Exists(Path.Combine(folder, "in")) || File.Exists(Path.Combine(folder, "in.closed")))
        {
            throw new InvalidOperationException("The command's input is closed or its run is gone.");
        }
    }

    private async Task FollowAsync(RunOffsets offsets)
    {
        FileStream? stdout = null, stderr = null;
        var idle = 0;
        try
        {
            stdout = Open("out");
            stderr = Open("err");
            while (true)
            {
                var recorded = Read(Path.Combine(folder, "exit")) is { } text ? RunFolder.ParseExit(text) : null;
                var read = false;
                foreach (var (stream, file, size) in new[]
                {
                    (OutputStream.Stdout, stdout, recorded?.Stdout ?? stdout.Length),
                    (OutputStream.Stderr, stderr, recorded?.Stderr ?? stderr.Length),
                })
                {
                    var position = offsets[stream];
                    if (size <= position)
                    {
                        continue;
                    }

                    var buffer = new byte[(int)Math.Min(size - position, RunFolder.MaxFrameBytes)];
                    file.Position = position;
                    await file.ReadExactlyAsync(buffer, stop.Token);
                    await output.Writer.WriteAsync(new OutputChunk(stream, buffer), stop.Token);
                    offsets = offsets.Advance(stream, buffer.Length);
                    read = true;
                }

                if (read)
                {
                    idle = 0;
                    continue;
                }

                if (recorded is { } done)
                {
                    exit.TrySetResult(done.Code);
                    return;
                }

                // Every half second: a keeper that died without an exit file (killed, host rebooted) lost the command.
                if (++idle % 10 == 0 && !KeeperAlive() && !File.Exists(Path.Combine(folder, "exit")))
                {
                    exit.TrySetException(new RunLostException("The command's process ended without recording an exit code."));
                    return;
                }

                await Task.Delay(Idle, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            exit.TrySetCanceled(stop.Token);
        }
        catch (IOException ex)
        {
            if (logger is not null)
            {
                LogFollowFailed(logger, folder, ex);
            }

            exit.TrySetException(new RunLostException("The command's run folder could not be read.", ex));
        }
        finally
        {
            output.Writer.TryComplete();
            stdout?.Dispose();
            stderr?.Dispose();
        }
    }

    private FileStream Open(string name) =>
        new(Path.Combine(folder, name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);

    private bool KeeperAlive() =>
        Read(Path.Combine(folder, "keeper")) is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
        && NativeUsers.IsAlive(pid);

    private static string? Read(string path)
    {
        // Polled 20 times a second per followed command, where a missing exit file is the usual answer: checking first
        // keeps that from being an exception each time (the catch stays for a file removed in between).
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Reading the run folder {Folder} failed")]
    private static partial void LogFollowFailed(ILogger logger, string folder, Exception exception);
}
