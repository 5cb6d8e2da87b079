using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Rdev.Api.Data;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

/// <summary>
/// Runs the commands this replica accepted: starts them through the runtime, stores their output as it arrives,
/// enforces timeouts and cancellation, and records the final status. Also keeps this replica's heartbeat and marks
/// the commands of replicas that died as <c>lost</c>.
/// </summary>
public sealed class CommandSupervisor(
    CommandStore store,
    ICommandRunner runner,
    PostgresNotifications notifications,
    CommandMetrics metrics,
    IOptions<CommandOptions> options,
    ILogger<CommandSupervisor> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(CommandMetrics.MeterName);
    private readonly ConcurrentDictionary<Guid, Execution> running = new();
    private readonly CancellationTokenSource shutdown = new();
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
        var execution = new Execution(command, target, argv);
        running[command.Id] = execution;
        execution.Completion = Task.Run(() => RunAsync(execution));
    }

    /// <summary>Stops a command running on this replica; false when it runs elsewhere (or no longer runs).</summary>
    public bool TryCancel(Guid id) => running.TryGetValue(id, out var execution) && execution.RequestStop(CommandStatuses.Cancelled);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        var runnerTimeout = TimeSpan.FromSeconds(options.Value.RunnerTimeoutSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await store.HeartbeatAsync(RunnerId, stoppingToken);
                var lost = await store.MarkLostAsync(runnerTimeout, stoppingToken);
                if (lost > 0)
                {
                    logger.LogWarning("Marked {Count} commands lost: the replica running them stopped", lost);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop the loop: the heartbeat resumes when it is back.
                logger.LogWarning("Command heartbeat failed: {Message}", ex.Message);
            }

            await Task.Delay(interval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        cancelSubscription?.Dispose();
        // Commands cannot outlive this process yet: stop them and record why, so no command stays 'running'.
        foreach (var execution in running.Values)
        {
            execution.RequestStop(CommandStatuses.Lost);
        }

        await Task.WhenAll(running.Values.Select(e => e.Completion)).WaitAsync(cancellationToken)
            .ContinueWith(_ => { }, TaskScheduler.Default);
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

    private async Task RunAsync(Execution execution)
    {
        var command = execution.Command;
        var settings = options.Value;
        // A child of the request that created the command; spans of the exec and of Postgres nest under it.
        using var activity = Source.StartActivity($"command {command.Kind}", ActivityKind.Internal);
        activity?.SetTag("project", command.Project).SetTag("command.kind", command.Kind).SetTag("command.id", command.Id.ToString());
        var processor = new OutputProcessor(command.Kind == CommandKinds.Claude, settings.MaxOutputBytes);
        var clock = Stopwatch.StartNew();
        long seq = 1;
        var wasRunning = false;
        string status;
        int? exitCode = null;
        string? error = null;
        string? stopReason = null;
        try
        {
            IRunningProcess process;
            try
            {
                process = await runner.StartAsync(execution.Target, execution.Argv, shutdown.Token);
            }
            catch (RuntimeUnavailableException ex)
            {
                logger.LogWarning("Command {CommandId} could not start: {Message}", command.Id, ex.Message);
                await FinishAsync(CommandStatuses.Failed, null, ex.Message);
                return;
            }

            await using (process)
            {
                metrics.Started(command.Project, command.Kind);
                wasRunning = true;
                execution.Attach(process, TimeSpan.FromSeconds(settings.CancelGraceSeconds), logger);
                execution.StopAfter(TimeSpan.FromSeconds(command.TimeoutSeconds));

                var output = Channel.CreateBounded<(string Type, string Data)>(new BoundedChannelOptions(256) { SingleReader = true });
                // The running status goes first through the same ordered writer as the output, in its first batch.
                await output.Writer.WriteAsync((EventTypes.Status, EventData.Status(CommandStatuses.Running, null)));
                var writer = WriteEventsAsync(command.Id, output, processor, new RunnerStart(RunnerId, process.Handle), () => ++seq);
                var pump = PumpAsync(process, processor, output.Writer, execution.OutputDrained.Token);

                try
                {
                    var exited = process.WaitForExitAsync(CancellationToken.None);
                    // The writer ends early only when it fails; then there is no point waiting for the exit.
                    if (await Task.WhenAny(exited, writer) == writer && writer.IsFaulted)
                    {
                        await writer;
                    }

                    exitCode = await exited;
                    stopReason = execution.MarkExited();
                    // Background children may hold the pipes open after the command exits: read on only briefly.
                    execution.OutputDrained.CancelAfter(TimeSpan.FromSeconds(2));
                    await pump;
                    await writer;
                }
                catch
                {
                    // Its output can no longer be stored: stop it rather than let it run unseen.
                    execution.RequestStop(CommandStatuses.Failed);
                    await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(settings.CancelGraceSeconds + 5))
                        .ContinueWith(_ => { }, TaskScheduler.Default);
                    throw;
                }
            }

            status = stopReason ?? (exitCode == 0 ? CommandStatuses.Succeeded : CommandStatuses.Failed);
            if (status == CommandStatuses.Lost)
            {
                error = "The API replica running this command shut down.";
            }

            await FinishAsync(status, exitCode, error);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Command {CommandId} failed inside rdev", command.Id);
            await WithRetriesAsync(() => FinishAsync(CommandStatuses.Failed, exitCode, "rdev could not store this command's output."))
                .ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            running.TryRemove(command.Id, out _);
            execution.Dispose();
        }

        async Task FinishAsync(string finalStatus, int? code, string? message)
        {
            await store.FinishAsync(command.Id, ++seq, finalStatus, code, message, processor.OutputBytes, processor.Truncated,
                processor.Claude, CancellationToken.None);
            metrics.Finished(command.Project, command.Kind, finalStatus, clock.Elapsed, wasRunning);
            activity?.SetTag("command.status", finalStatus).SetTag("command.exit_code", code);
            if (finalStatus is not CommandStatuses.Succeeded)
            {
                activity?.SetStatus(ActivityStatusCode.Error, finalStatus);
            }
        }
    }

    private static async Task PumpAsync(
        IRunningProcess process, OutputProcessor processor, ChannelWriter<(string Type, string Data)> output, CancellationToken ct)
    {
        var events = new List<(string Type, string Data)>();
        try
        {
            await foreach (var chunk in process.ReadOutputAsync(ct))
            {
                processor.Process(chunk, events);
                foreach (var e in events)
                {
                    await output.WriteAsync(e, CancellationToken.None);
                }

                events.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        processor.Complete(events);
        foreach (var e in events)
        {
            await output.WriteAsync(e, CancellationToken.None);
        }

        output.TryComplete();
    }

    // Batches form by themselves: whatever arrived while the previous batch was being written goes in the next one.
    // A database that is briefly unreachable delays the batch (the bounded channel then holds the process back); one
    // that stays away fails the command, and closing the channel unblocks the output pump.
    private async Task WriteEventsAsync(
        Guid id, Channel<(string Type, string Data)> output, OutputProcessor processor, RunnerStart start, Func<long> nextSeq)
    {
        try
        {
            RunnerStart? pendingStart = start;
            const int maxBatchChars = 1024 * 1024;
            var batch = new List<CommandEvent>();
            while (await output.Reader.WaitToReadAsync())
            {
                var chars = 0;
                while (chars < maxBatchChars && output.Reader.TryRead(out var e))
                {
                    batch.Add(new CommandEvent(nextSeq(), e.Type, e.Data));
                    chars += e.Data.Length;
                }

                await WithRetriesAsync(() => store.AppendEventsAsync(
                    id, batch, processor.OutputBytes, processor.Truncated, pendingStart, CancellationToken.None));
                pendingStart = null;
                batch.Clear();
            }
        }
        catch (Exception ex)
        {
            output.Writer.TryComplete(ex);
            throw;
        }
    }

    /// <summary>Retries a database write through a short outage (about half a minute), then gives up.</summary>
    private async Task WithRetriesAsync(Func<Task> write)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await write();
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException && attempt < 12)
            {
                logger.LogWarning("Storing command events failed ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, attempt))));
            }
        }
    }

    /// <summary>One command on this replica and the ways it can be stopped.</summary>
    private sealed class Execution(CommandRecord command, RunTarget target, IReadOnlyList<string> argv) : IDisposable
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

        /// <summary>Why rdev stopped the command (cancelled, timed_out, lost), or null when it ended by itself.</summary>
        private string? StopReason { get; set; }

        public void Attach(IRunningProcess started, TimeSpan cancelGrace, ILogger log)
        {
            string? stopRequested;
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

        /// <summary>The first reason wins; a command that already exited cannot be stopped any more.</summary>
        public bool RequestStop(string reason)
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

                StopReason = reason;
                target = process;
            }

            if (target is not null)
            {
                _ = TerminateAsync(target);
            }

            return true;
        }

        /// <summary>Called once the process has exited; returns why rdev stopped it, if it did.</summary>
        public string? MarkExited()
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
                logger?.LogWarning("Could not signal command {CommandId}: {Message}", Command.Id, ex.Message);
            }
        }

        public void Dispose()
        {
            timeout.Dispose();
            OutputDrained.Dispose();
        }
    }
}
