using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>
/// One command this replica supervises, started here (<see cref="Request"/>) or taken over (<see cref="Claim"/>), and
/// the ways it can end here: stopped (cancel, timeout, failure) or let go (this replica shuts down or lost the lease;
/// the command keeps running for the next holder).
/// </summary>
internal sealed class CommandExecution(CommandRecord command, RunTarget target, RunRequest? request, ClaimedCommand? claim = null) : IDisposable
{
    private readonly Lock gate = new();
    private readonly CancellationTokenSource timeout = new();
    private IRunningProcess? process;
    private TimeSpan grace;
    private ILogger? logger;
    private bool exited;

    public CommandRecord Command { get; } = command;
    public RunTarget Target { get; } = target;
    public RunRequest? Request { get; } = request;
    public ClaimedCommand? Claim { get; } = claim;
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Cancelled when this replica lets go of the command without stopping it.</summary>
    public CancellationTokenSource LetGo { get; } = new();

    /// <summary>The absolute deadline: the timeout counts from the start, whichever replica enforces it.</summary>
    public DateTimeOffset Deadline => (Command.StartedAt ?? Command.CreatedAt).AddSeconds(Command.TimeoutSeconds);

    /// <summary>Why rdev stopped the command (cancelled, timed_out, lost, failed), or null when it ended by itself.</summary>
    private CommandOutcome? StopReason { get; set; }

    /// <summary>The attached process, once there is one.</summary>
    public IRunningProcess? Process
    {
        get
        {
            lock (gate)
            {
                return process;
            }
        }
    }

    public bool Started
    {
        get
        {
            lock (gate)
            {
                return process is not null;
            }
        }
    }

    public void Attach(IRunningProcess started, TimeSpan cancelGrace, ILogger log)
    {
        CommandOutcome? stopRequested;
        lock (gate)
        {
            process = started;
            grace = cancelGrace;
            logger = log;
            stopRequested = StopReason;
        }

        if (stopRequested is not null)
        {
            _ = TerminateAsync(started);
        }
    }

    public void StopAt(DateTimeOffset deadline)
    {
        timeout.Token.Register(() => RequestStop(CommandStatuses.TimedOut));
        timeout.CancelAfter(TimeSpan.FromMilliseconds(Math.Clamp((deadline - DateTimeOffset.UtcNow).TotalMilliseconds, 0, int.MaxValue - 1)));
    }

    /// <summary>
    /// The first reason wins; a command that already exited cannot be stopped any more. <paramref name="error"/> is
    /// what the command record will say about it.
    /// </summary>
    public bool RequestStop(string status, string? error = null)
    {
        IRunningProcess? target;
        lock (gate)
        {
            if (exited)
            {
                return false;
            }

            if (StopReason is not null)
            {
                return true;
            }

            StopReason = new CommandOutcome(status, null, error);
            target = process;
        }

        if (target is not null)
        {
            _ = TerminateAsync(target);
        }

        return true;
    }

    /// <summary>Called once the process has exited; returns why rdev stopped it (no exit code), if it did.</summary>
    public CommandOutcome? MarkExited()
    {
        lock (gate)
        {
            exited = true;
            return StopReason;
        }
    }

    // SIGTERM to the process group, SIGKILL after the grace period if it is still there.
    private async Task TerminateAsync(IRunningProcess target)
    {
        try
        {
            await target.SignalAsync(ProcessSignal.Terminate, CancellationToken.None);
            var exited = target.WaitForExitAsync(CancellationToken.None);
            if (await Task.WhenAny(exited, Task.Delay(grace)) != exited)
            {
                await target.SignalAsync(ProcessSignal.Kill, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is RuntimeUnavailableException or InvalidOperationException)
        {
            if (logger is not null)
            {
                SupervisorLog.SignalFailed(logger, Command.Id, ex);
            }
        }
    }

    // LetGo is not disposed: shutdown cancels it on every execution it sees, and one may finish and be disposed in
    // between (an ObjectDisposedException then failed a replica's stop). Without a timer or a link it holds nothing
    // that needs disposing.
    public void Dispose() => timeout.Dispose();
}
