using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Polly;
using Rdev.Api.Data;
using Rdev.Api.Execution;
using Rdev.Api.Sessions;

namespace Rdev.Api.Commands;

/// <summary>
/// Runs the commands this replica accepted: starts them through the runtime, stores their output as it arrives,
/// enforces timeouts and cancellation, and records the final status, retrying its writes for as long as it runs. Also
/// keeps this replica's heartbeat, marks the commands of replicas that died as <c>lost</c>, and sweeps its own
/// unfinished commands that it no longer runs, so that no command stays <c>running</c> on a live replica.
/// </summary>
public sealed partial class CommandSupervisor(
    CommandStore store,
    ICommandRunner runner,
    PostgresNotifications notifications,
    CommandMetrics metrics,
    ClaudeSessions sessions,
    IOptions<CommandOptions> options,
    ILogger<CommandSupervisor> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(CommandMetrics.MeterName);
    // Only a command created this long ago can be swept: its request launches it right after inserting it.
    private static readonly TimeSpan SweepGrace = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<Guid, CommandExecution> running = new();
    // Outcomes whose final write was refused (not an outage): the sweep records them without the extra fields.
    private readonly ConcurrentDictionary<Guid, CommandOutcome> unrecorded = new();
    private readonly CancellationTokenSource shutdown = new();
    private readonly ResiliencePipeline storeRetry = StoreRetry.Create(logger);
    private IDisposable? cancelSubscription;

    public string RunnerId { get; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // A replica must be known alive before its first command exists, or it could be reaped as lost.
        await store.HeartbeatAsync(RunnerId, cancellationToken);
        cancelSubscription = notifications.Subscribe(CommandStore.CancelChannel, OnCancelRequested);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Starts a command that <see cref="CommandStore.CreateAsync"/> just queued on this replica.</summary>
    public void Launch(CommandRecord command, RunTarget target, IReadOnlyList<string> argv)
    {
        var execution = new CommandExecution(command, target, argv);
        running[command.Id] = execution;
        execution.Completion = Task.Run(() => RunAsync(execution));
    }

    /// <summary>Stops a command running on this replica; false when it runs elsewhere (or no longer runs).</summary>
    public bool TryCancel(Guid id) => running.TryGetValue(id, out var execution) && execution.RequestStop(CommandStatuses.Cancelled);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        var runnerTimeout = TimeSpan.FromSeconds(options.Value.RunnerTimeoutSeconds);
        var sweepInterval = TimeSpan.FromSeconds(options.Value.SweepSeconds);
        var sinceSweep = Stopwatch.StartNew();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await store.HeartbeatAsync(RunnerId, stoppingToken);
                var lost = await store.MarkLostAsync(runnerTimeout, stoppingToken);
                if (lost > 0)
                {
                    SupervisorLog.MarkedLost(logger, lost);
                }

                if (sinceSweep.Elapsed >= sweepInterval)
                {
                    await SweepAsync(stoppingToken);
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
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        cancelSubscription?.Dispose();
        // Commands cannot outlive this process yet: stop them and record why, so no command stays 'running'.
        foreach (var execution in running.Values)
        {
            execution.RequestStop(CommandStatuses.Lost, "The API replica running this command shut down.");
        }

        try
        {
            // RunAsync records every outcome itself, so only the host's shutdown timeout can end this wait early.
            await Task.WhenAll(running.Values.Select(e => e.Completion)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host stops waiting: what has not been recorded yet is marked lost by another replica.
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

    /// <summary>
    /// Finalises this replica's unfinished commands that it no longer supervises (a supervisor that died, a request
    /// that stopped between insert and launch, a final write the database refused): with the outcome recorded here
    /// when there is one, else as <c>lost</c>.
    /// </summary>
    private async Task SweepAsync(CancellationToken ct)
    {
        var candidates = await store.ListUnfinishedAsync(RunnerId, DateTimeOffset.UtcNow - SweepGrace, ct);
        var outcomes = candidates.Where(id => !running.ContainsKey(id))
            .Select(id => (id, unrecorded.TryGetValue(id, out var outcome) ? outcome : LostHere))
            .ToList();
        if (outcomes.Count == 0)
        {
            return;
        }

        var swept = await store.FinishUnsupervisedAsync(RunnerId, outcomes, ct);
        foreach (var (id, _) in outcomes)
        {
            unrecorded.TryRemove(id, out _);
        }

        if (swept > 0)
        {
            SupervisorLog.Swept(logger, swept);
        }
    }

    private static readonly CommandOutcome LostHere =
        new(CommandStatuses.Lost, null, "The API replica running this command lost track of it.");

    private async Task RunAsync(CommandExecution execution)
    {
        var command = execution.Command;
        // A child of the request that created the command; spans of the exec and of Postgres nest under it.
        using var activity = Source.StartActivity($"command {command.Kind}", ActivityKind.Internal);
        activity?.SetTag("project", command.Project).SetTag("command.kind", command.Kind).SetTag("command.id", command.Id.ToString());
        var processor = new OutputProcessor(command.Kind == CommandKinds.Claude, options.Value.MaxOutputBytes);
        var clock = Stopwatch.StartNew();
        long seq = 1;
        var outcome = await RunToEndAsync(execution, processor, () => ++seq);
        // Error messages come from the runtime too (a pod's exec status, an exception's text).
        long replaced = 0;
        outcome = outcome with { Error = StorableText.CleanOrNull(outcome.Error, ref replaced) };
        replaced += processor.Replaced;
        metrics.Replaced(command.Kind, replaced);
        if (replaced > 0)
        {
            SupervisorLog.Replaced(logger, command.Id, replaced);
        }

        try
        {
            var finalSeq = ++seq;
            await StoreAsync(ct => store.FinishAsync(command.Id, finalSeq, outcome.Status, outcome.ExitCode, outcome.Error,
                processor.OutputBytes, processor.Truncated, processor.Claude, ct));
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // This replica stops: its heartbeat stops too, and another replica marks the command lost.
        }
        catch (Exception ex)
        {
            SupervisorLog.FinalWriteFailed(logger, command.Id, outcome.Status, ex);
            unrecorded[command.Id] = outcome;
        }
        finally
        {
            running.TryRemove(command.Id, out _);
            metrics.Finished(command.Project, command.Kind, outcome.Status, clock.Elapsed, execution.Started);
            execution.Dispose();
        }

        activity?.SetTag("command.status", outcome.Status).SetTag("command.exit_code", outcome.ExitCode);
        if (outcome.Status is not CommandStatuses.Succeeded)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Status);
        }
    }

    private async Task CloseSessionAsync(ClaudeSession? session)
    {
        if (session is not null)
        {
            await sessions.CloseAsync(session);
        }
    }

    /// <summary>Starts the process, stores its output as it comes, and returns how it ended.</summary>
    private async Task<CommandOutcome> RunToEndAsync(CommandExecution execution, OutputProcessor processor, Func<long> nextSeq)
    {
        var command = execution.Command;
        var settings = options.Value;
        int? exitCode = null;
        try
        {
            IRunningProcess process;
            try
            {
                // Claude sessions (issue 14): the CLI's stdin stays open for the session.
                var start = command.Kind == CommandKinds.Claude ? sessions.StartOptions : StartOptions.None;
                process = await runner.StartAsync(execution.Target, execution.Argv, start, shutdown.Token);
            }
            catch (RuntimeUnavailableException ex)
            {
                SupervisorLog.StartFailed(logger, command.Id, ex);
                return new CommandOutcome(CommandStatuses.Failed, null, ex.Message);
            }

            await using (process)
            {
                metrics.Started(command.Project, command.Kind);
                execution.Attach(process, TimeSpan.FromSeconds(settings.CancelGraceSeconds), logger);
                execution.StopAfter(TimeSpan.FromSeconds(command.TimeoutSeconds));

                var output = Channel.CreateBounded<(string Type, string Data)>(new BoundedChannelOptions(256) { SingleReader = true });
                // The running status goes first through the same ordered writer as the output, in its first batch.
                await output.Writer.WriteAsync((EventTypes.Status, EventData.Status(CommandStatuses.Running, null)));
                var writer = WriteEventsAsync(execution, output, processor, new RunnerStart(RunnerId, process.Handle), nextSeq);
                // Claude sessions (issue 14): the session writes to the CLI; the pump hands it the CLI's lines.
                var session = command.Kind == CommandKinds.Claude ? sessions.Open(command, process, output.Writer) : null;
                processor.OnClaudeLine = session is null ? null : session.Observe;
                var pump = processor.PumpAsync(process, output.Writer, execution.OutputDrained.Token);

                try
                {
                    var exited = process.WaitForExitAsync(CancellationToken.None);
                    // The writer ends early only when it fails; then there is no point waiting for the exit.
                    if (await Task.WhenAny(exited, writer) == writer && writer.IsFaulted)
                    {
                        await writer;
                    }

                    exitCode = await exited;
                    await CloseSessionAsync(session);
                    var stopped = execution.MarkExited();
                    // Background children may hold the pipes open after the command exits: read on only briefly.
                    execution.OutputDrained.CancelAfter(TimeSpan.FromSeconds(2));
                    await pump;
                    await writer;
                    return stopped is null
                        ? new CommandOutcome(exitCode == 0 ? CommandStatuses.Succeeded : CommandStatuses.Failed, exitCode, null)
                        : stopped with { ExitCode = exitCode };
                }
                catch
                {
                    // Its output can no longer be stored: stop it rather than let it run unseen.
                    execution.RequestStop(CommandStatuses.Failed);
                    try
                    {
                        await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(settings.CancelGraceSeconds + 5));
                    }
                    catch (TimeoutException)
                    {
                        // Not even SIGKILL ended it in time; the original failure below is what the outcome reports.
                    }

                    throw;
                }
                finally
                {
                    await CloseSessionAsync(session);
                }
            }
        }
        catch (Exception ex)
        {
            SupervisorLog.FailedInside(logger, command.Id, ex);
            return new CommandOutcome(CommandStatuses.Failed, exitCode, "rdev could not store this command's output.");
        }
    }
}
