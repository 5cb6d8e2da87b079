using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>One command on this replica and the ways it can be stopped.</summary>
internal sealed class CommandExecution(CommandRecord command, RunTarget target, IReadOnlyList<string> argv) : IDisposable
{
    private readonly Lock gate = new();
    private readonly CancellationTokenSource timeout = new();
    private IRunningProcess? process;
    private TimeSpan grace;
    private ILogger? logger;
    private bool exited;

    public CommandRecord Command { get; } = command;
    public RunTarget Target { get; } = target;
    public IReadOnlyList<string> Argv { get; } = argv;
    public Task Completion { get; set; } = Task.CompletedTask;
    public CancellationTokenSource OutputDrained { get; } = new();

    /// <summary>Why rdev stopped the command (cancelled, timed_out, lost, failed), or null when it ended by itself.</summary>
    private CommandOutcome? StopReason { get; set; }

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

    public void StopAfter(TimeSpan after)
    {
        timeout.Token.Register(() => RequestStop(CommandStatuses.TimedOut));
        timeout.CancelAfter(after);
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

    public void Dispose()
    {
        timeout.Dispose();
        OutputDrained.Dispose();
    }
}
