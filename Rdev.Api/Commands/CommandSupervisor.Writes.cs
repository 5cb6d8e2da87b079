using System.Diagnostics;
using System.Threading.Channels;

namespace Rdev.Api.Commands;

// The supervisor's writes: a command's events in batches, and every write through StoreRetry.
public sealed partial class CommandSupervisor
{
    // Batches form by themselves: whatever arrived while the previous batch was being written goes in the next one.
    // A database that is unreachable delays the batch (the bounded channel then holds the process back) and the write
    // is retried until it succeeds; a running command whose output waits longer than WriteGiveUpSeconds is stopped.
    // A write the database refuses fails the command, and closing the channel unblocks the output pump.
    private async Task WriteEventsAsync(
        CommandExecution execution, Channel<OutputEvent> output, OutputProcessor processor, RunnerStart? start, Func<long> nextSeq)
    {
        var id = execution.Command.Id;
        var giveUp = options.Value.WriteGiveUpSeconds;
        var stopped = false;
        var stalled = $"rdev stopped this command: its output could not be stored for {giveUp:0.#} s (the database was unreachable).";
        try
        {
            var pendingStart = start;
            const int maxBatchChars = 1024 * 1024;
            var batch = new List<CommandEvent>();
            while (await output.Reader.WaitToReadAsync())
            {
                var chars = 0;
                OutputEvent last = default;
                while (chars < maxBatchChars && output.Reader.TryRead(out var e))
                {
                    batch.Add(new CommandEvent(nextSeq(), e.Type, e.Data));
                    chars += e.Data.Length;
                    last = e;
                }

                // The batch commits here, with the offsets of its last event: a re-attach resumes right after it.
                var owned = await StoreAsync(ct => store.AppendEventsAsync(
                        id, RunnerId, batch, last.OutputBytes, last.Truncated, last.Position, pendingStart, ct),
                    onStalled: () =>
                    {
                        if (!stopped)
                        {
                            stopped = true;
                            SupervisorLog.WritesStalled(logger, id, giveUp);
                            execution.RequestStop(CommandStatuses.Failed, stalled);
                        }
                    });
                if (!owned)
                {
                    throw new LeaseLostException();
                }

                // Durability first: streams on this replica get the batch from memory once it is committed.
                streams.Publish(id, batch);
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

    /// <summary>
    /// Runs a write through <see cref="StoreRetry"/> until it succeeds or the replica stops; <paramref name="onStalled"/>
    /// runs before each retry once the write has been failing for <see cref="CommandOptions.WriteGiveUpSeconds"/>.
    /// </summary>
    private async Task<T> StoreAsync<T>(Func<CancellationToken, Task<T>> write, Action? onStalled = null)
    {
        var giveUp = TimeSpan.FromSeconds(options.Value.WriteGiveUpSeconds);
        var since = Stopwatch.StartNew();
        var attempts = 0;
        return await storeRetry.ExecuteAsync(async ct =>
        {
            if (attempts++ > 0 && since.Elapsed >= giveUp)
            {
                onStalled?.Invoke();
            }

            return await write(ct);
        }, shutdown.Token);
    }
}
