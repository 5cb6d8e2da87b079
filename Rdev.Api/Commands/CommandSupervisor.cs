using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Polly;
using Rdev.Api.Data;
using Rdev.Api.Execution;
using Rdev.Api.Sessions;
using Rdev.Api.Streaming;

namespace Rdev.Api.Commands;

/// <summary>
/// Supervises commands on this replica: starts the ones it accepted, and takes over (re-attaches to) those no live
/// replica holds, the commands of a replica that died or shut down (SPEC section 6, durable runs). A command's lease is
/// its runner_id plus that replica's heartbeat; on shutdown this replica lets go of its commands without stopping them
/// and releases their leases, so another replica continues them at once. The run pipeline is CommandSupervisor.Run.cs,
/// the ordered writer CommandSupervisor.Writes.cs.
/// </summary>
public sealed partial class CommandSupervisor(
    CommandStore store,
    ICommandRunner runner,
    PostgresNotifications notifications,
    CommandMetrics metrics,
    CommandStreamHub streams,
    ClaudeSessions sessions,
    IOptions<CommandOptions> options,
    ILogger<CommandSupervisor> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(CommandMetrics.MeterName);
    // Only a command created this long ago can be re-adopted by its own replica: its request launches it right after inserting it.
    private static readonly TimeSpan AdoptGrace = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<Guid, CommandExecution> running = new();
    // Outcomes whose final write was refused (not an outage): the sweep records them without the extra fields.
    private readonly ConcurrentDictionary<Guid, CommandOutcome> unrecorded = new();
    private readonly CancellationTokenSource shutdown = new();
    private readonly SemaphoreSlim wake = new(0);
    private readonly ResiliencePipeline storeRetry = StoreRetry.Create(logger);
    private IDisposable? cancelSubscription;
    private IDisposable? releaseSubscription;
    private volatile bool stopping;

    public string RunnerId { get; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // A replica must be known alive before its first command exists, or another could take that command over.
        await store.HeartbeatAsync(RunnerId, cancellationToken);
        cancelSubscription = notifications.Subscribe(CommandStore.CancelChannel, OnCancelRequested);
        // Another replica let go of commands: take them now rather than at the next heartbeat.
        releaseSubscription = notifications.Subscribe(CommandStore.ReleasedChannel, _ => wake.Release());
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Starts a command that <see cref="CommandStore.CreateAsync"/> just queued on this replica.</summary>
    /// <param name="input">Whether the command reads input (<see cref="IRunningProcess.WriteInputLineAsync"/>); else its stdin is empty.</param>
    public void Launch(CommandRecord command, RunTarget target, IReadOnlyList<string> argv, bool input = false)
    {
        // Claude sessions (issue 14): the CLI reads its prompt and the session's answers on stdin, with its own environment.
        var claude = command.Kind == CommandKinds.Claude;
        // One byte more than the cap per stream: output past the cap then reaches the processor, which marks it truncated.
        Supervise(new CommandExecution(command, target, new RunRequest(
            command.Id, argv, input || claude, options.Value.MaxOutputBytes + 1, claude ? sessions.Environment : null)));
    }

    /// <summary>Stops a command supervised here; false when another replica holds it (or it no longer runs).</summary>
    public bool TryCancel(Guid id) => running.TryGetValue(id, out var execution) && execution.RequestStop(CommandStatuses.Cancelled);

    /// <summary>The running process of a command supervised here (for its input), or null.</summary>
    public IRunningProcess? ProcessOf(Guid id) => running.TryGetValue(id, out var execution) ? execution.Process : null;

    private void Supervise(CommandExecution execution)
    {
        running[execution.Command.Id] = execution;
        execution.Completion = Task.Run(() => RunAsync(execution));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        var sweepInterval = TimeSpan.FromSeconds(options.Value.SweepSeconds);
        var sinceSweep = Stopwatch.StartNew();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var id in await store.HeartbeatAsync(RunnerId, stoppingToken))
                {
                    TryCancel(id); // A no-op for a command already stopping.
                }

                await RecordUnrecordedAsync(stoppingToken);
                await ClaimAsync(stoppingToken);
                if (sinceSweep.Elapsed >= sweepInterval)
                {
                    await SweepRunFoldersAsync(stoppingToken);
                    sinceSweep.Restart();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop the loop: the heartbeat resumes when it is back.
                SupervisorLog.HeartbeatFailed(logger, ex);
            }

            try
            {
                await wake.WaitAsync(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        cancelSubscription?.Dispose();
        releaseSubscription?.Dispose();
        // Hand over instead of stopping: each pipeline stores what it has read (with its offsets) and lets go.
        foreach (var execution in running.Values)
        {
            await execution.LetGo.CancelAsync();
        }

        try
        {
            await Task.WhenAll(running.Values.Select(e => e.Completion)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host stops waiting: what is not stored yet is read again by the next holder, from the stored offsets.
        }

        try
        {
            var released = await store.ReleaseAsync(RunnerId, cancellationToken);
            SupervisorLog.Released(logger, released);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Then the others take the commands over once this replica's heartbeat is stale.
            SupervisorLog.ReleaseFailed(logger, ex);
        }

        await shutdown.CancelAsync();
        await base.StopAsync(cancellationToken);
    }

    private void OnCancelRequested(string? payload)
    {
        if (Guid.TryParse(payload, out var id))
        {
            TryCancel(id);
        }
    }

    /// <summary>Takes over the commands no live replica holds, and re-attaches to each.</summary>
    private async Task ClaimAsync(CancellationToken ct)
    {
        if (stopping)
        {
            return;
        }

        var claimed = await store.ClaimAsync(RunnerId, TimeSpan.FromSeconds(options.Value.RunnerTimeoutSeconds),
            DateTimeOffset.UtcNow - AdoptGrace, [.. running.Keys, .. unrecorded.Keys], ct);
        foreach (var claim in claimed)
        {
            if (running.ContainsKey(claim.Command.Id))
            {
                continue;
            }

            SupervisorLog.TookOver(logger, claim.Command.Id, claim.Offsets.Stdout, claim.Offsets.Stderr);
            Supervise(new CommandExecution(claim.Command, claim.Target ?? new RunTarget(claim.Command.Project, ""), null, claim));
        }
    }

    /// <summary>Records the outcomes whose final write the database refused, without the extra fields.</summary>
    private async Task RecordUnrecordedAsync(CancellationToken ct)
    {
        var outcomes = unrecorded.Where(u => !running.ContainsKey(u.Key)).Select(u => (u.Key, u.Value)).ToList();
        if (outcomes.Count == 0)
        {
            return;
        }

        var swept = await store.FinishUnsupervisedAsync(RunnerId, outcomes, ct);
        foreach (var (id, _) in outcomes)
        {
            unrecorded.TryRemove(id, out _);
        }

        SupervisorLog.Swept(logger, swept);
    }

    /// <summary>Removes the run folders of finished commands that were left behind (their replica died before removing them).</summary>
    private async Task SweepRunFoldersAsync(CancellationToken ct)
    {
        foreach (var target in await store.ListRecentTargetsAsync(ct))
        {
            var folders = await runner.ListRunsAsync(target, ct);
            if (folders.Count == 0)
            {
                continue;
            }

            foreach (var id in await store.ListFinishedAsync(folders, ct))
            {
                await runner.RemoveRunAsync(target, id, ct);
            }
        }
    }
}
