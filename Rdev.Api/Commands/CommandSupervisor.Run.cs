using System.Diagnostics;
using System.Threading.Channels;
using Rdev.Api.Execution;

namespace Rdev.Api.Commands;

// The run pipeline: start or re-attach, store the output as it comes, and record how the command ended, unless this
// replica lets go of it first (shutdown, lost lease): then the command keeps running for the next holder.
public sealed partial class CommandSupervisor
{
    private static readonly CommandOutcome LostRun = new(CommandStatuses.Lost, null, "The command's process is gone (its run folder, process or pod).");

    private async Task RunAsync(CommandExecution execution)
    {
        var command = execution.Command;
        // A child of the request that created the command; spans of the exec and of Postgres nest under it.
        using var activity = Source.StartActivity($"command {command.Kind}", ActivityKind.Internal);
        activity?.SetTag("project", command.Project).SetTag("command.kind", command.Kind).SetTag("command.id", command.Id.ToString());
        var claim = execution.Claim;
        using var processor = new OutputProcessor(command.Kind == CommandKinds.Claude, options.Value.MaxOutputBytes,
            claim?.Offsets ?? default, command.OutputBytes, command.Truncated);
        var clock = Stopwatch.StartNew();
        var seq = claim?.LastSeq ?? 1;
        CommandOutcome? outcome = null;
        try
        {
            outcome = await RunToEndAsync(execution, processor, () => ++seq);
            if (outcome is not null)
            {
                await FinishAsync(execution, processor, outcome, ++seq);
            }
        }
        finally
        {
            running.TryRemove(command.Id, out _);
            if (outcome is not null)
            {
                metrics.Finished(command.Project, command.Kind, outcome.Status, clock.Elapsed, execution.Started);
            }
            else if (execution.Started)
            {
                metrics.Detached(command.Project);
            }

            execution.Dispose();
        }

        activity?.SetTag("command.status", outcome?.Status ?? "handed over").SetTag("command.exit_code", outcome?.ExitCode);
        if (outcome is { Status: not CommandStatuses.Succeeded })
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Status);
        }
    }

    private async Task FinishAsync(CommandExecution execution, OutputProcessor processor, CommandOutcome outcome, long seq)
    {
        var command = execution.Command;
        // Error messages come from the runtime too (a pod's exec status, an exception's text).
        long replaced = 0;
        outcome = outcome with { Error = StorableText.CleanOrNull(outcome.Error, ref replaced) };
        replaced += processor.Replaced;
        metrics.Replaced(command.Kind, replaced);
        if (replaced > 0)
        {
            SupervisorLog.Replaced(logger, command.Id, replaced);
        }

        bool finished;
        try
        {
            finished = await StoreAsync(ct => store.FinishAsync(command.Id, RunnerId, seq, outcome, processor.OutputBytes,
                processor.Truncated, processor.Claude, ct));
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return; // This replica stops: the next holder re-attaches, finds the exit file and records the outcome.
        }
        catch (Exception ex)
        {
            SupervisorLog.FinalWriteFailed(logger, command.Id, outcome.Status, ex);
            unrecorded[command.Id] = outcome;
            return;
        }

        if (finished && execution.Target.Workspace.Length > 0)
        {
            try
            {
                await runner.RemoveRunAsync(execution.Target, command.Id, shutdown.Token);
            }
            catch (Exception ex) when (ex is RuntimeUnavailableException or IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                SupervisorLog.RemoveFailed(logger, command.Id, ex);
            }
        }
    }

    /// <summary>Starts or re-attaches, stores the output as it comes, and returns how the command ended; null when let go.</summary>
    private async Task<CommandOutcome?> RunToEndAsync(CommandExecution execution, OutputProcessor processor, Func<long> nextSeq)
    {
        var command = execution.Command;
        var settings = options.Value;
        int? exitCode = null;
        try
        {
            IRunningProcess process;
            try
            {
                process = execution.Request is { } request
                    ? await runner.StartAsync(execution.Target, request, shutdown.Token)
                    : execution.Target.Workspace.Length == 0
                        ? throw new RunLostException("The command has no recorded run target.")
                        : await runner.AttachAsync(execution.Target, command.Id, processor.Position, shutdown.Token);
            }
            catch (RuntimeUnavailableException ex) when (execution.Request is not null)
            {
                SupervisorLog.StartFailed(logger, command.Id, ex);
                return new CommandOutcome(CommandStatuses.Failed, null, ex.Message);
            }
            catch (Exception ex) when (ex is RunLostException or RuntimeUnavailableException { Blame: RuntimeBlame.Project })
            {
                SupervisorLog.RunLost(logger, command.Id, ex);
                return LostRun;
            }
            catch (RuntimeUnavailableException ex)
            {
                // Kubernetes is unreachable, not the command gone: the next claim round (this replica's own) tries again.
                SupervisorLog.AttachFailed(logger, command.Id, ex);
                return null;
            }

            await using (process)
            {
                if (execution.Request is not null)
                {
                    metrics.Started(command.Project, command.Kind);
                }
                else
                {
                    metrics.Attached(command.Project);
                }

                execution.Attach(process, TimeSpan.FromSeconds(settings.CancelGraceSeconds), logger);
                execution.StopAt(execution.Deadline);
                if (execution.Claim?.CancelRequested == true)
                {
                    execution.RequestStop(CommandStatuses.Cancelled);
                }

                var output = Channel.CreateBounded<OutputEvent>(new BoundedChannelOptions(256) { SingleReader = true });
                // A started (or still queued) command's running status goes first, through the same ordered writer.
                RunnerStart? start = null;
                if (execution.Request is not null || command.Status == CommandStatuses.Queued)
                {
                    start = new RunnerStart(process.Handle);
                    await output.Writer.WriteAsync(processor.Event(EventTypes.Status, EventData.Status(CommandStatuses.Running, null)));
                }

                var writer = WriteEventsAsync(execution, output, processor, start, nextSeq);
                // Claude sessions (issue 14): the session writes to the CLI; the pump hands it the CLI's lines. After a
                // takeover it carries on from what Postgres holds (SessionStore), without sending the prompt again.
                var session = command.Kind == CommandKinds.Claude
                    ? sessions.Open(command, process, (type, data, ct) => processor.WriteSideEventAsync(output.Writer, type, data, ct), resumed: execution.Request is null)
                    : null;
                processor.OnClaudeLine = session is null ? null : session.Observe;
                var pump = processor.PumpAsync(process, output.Writer, execution.LetGo.Token);
                var exited = process.WaitForExitAsync(execution.LetGo.Token);
                try
                {
                    // The writer ends early only when it fails; then there is no point waiting for the exit.
                    if (await Task.WhenAny(exited, writer) == writer && writer.IsFaulted)
                    {
                        await writer;
                    }

                    try
                    {
                        exitCode = await exited;
                        // What a session would still say (a waiting state) must not follow the command's end.
                        await sessions.CloseAsync(session);
                    }
                    catch (RunLostException ex)
                    {
                        SupervisorLog.RunLost(logger, command.Id, ex);
                        await pump;
                        await writer;
                        return LostRun;
                    }

                    var stopped = execution.MarkExited();
                    await pump;
                    await writer;
                    return stopped is null
                        ? new CommandOutcome(exitCode == 0 ? CommandStatuses.Succeeded : CommandStatuses.Failed, exitCode, null)
                        : stopped with { ExitCode = exitCode };
                }
                catch (Exception ex) when (execution.LetGo.IsCancellationRequested || ex is LeaseLostException)
                {
                    // Handed over: store what was read (the writer drains the channel), then leave the command running.
                    await execution.LetGo.CancelAsync();
                    await pump;
                    await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (ex is LeaseLostException)
                    {
                        SupervisorLog.LeaseLost(logger, command.Id);
                    }

                    return null;
                }
                catch
                {
                    // Its output can no longer be stored: stop it rather than let it run unseen.
                    execution.RequestStop(CommandStatuses.Failed);
                    try
                    {
                        await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(settings.CancelGraceSeconds + 5));
                    }
                    catch (Exception wait) when (wait is TimeoutException or RunLostException)
                    {
                        // Not even SIGKILL ended it in time; the original failure below is what the outcome reports.
                    }

                    throw;
                }
                finally
                {
                    await sessions.CloseAsync(session);
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

/// <summary>Another replica holds the command's lease now: this one must let go of it without touching it.</summary>
internal sealed class LeaseLostException() : Exception("Another replica holds this command's lease.");
