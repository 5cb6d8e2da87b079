using System.Runtime.InteropServices;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Ctrl+C and SIGTERM while a command is followed. On a terminal Ctrl+C asks "cancel the command? [y/N]" and cancels it
/// on "y" (the run then ends as the command does, 130); a second Ctrl+C while asking detaches. Without a terminal
/// (a script, CI) Ctrl+C detaches at once, and SIGTERM always does: rdev stops following and the command goes on.
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource detach = new();
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;
    private readonly Func<CancellationToken, Task> cancelCommand;
    private readonly bool interactive;
    private int asking;

    public Interrupts(Func<CancellationToken, Task> cancelCommand)
    {
        this.cancelCommand = cancelCommand;
        interactive = !Console.IsInputRedirected;
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnInterrupt);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            detach.Cancel();
        });
    }

    /// <summary>Cancelled when the user chose to stop following.</summary>
    public CancellationToken Detached => detach.Token;

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        detach.Dispose();
    }

    private void OnInterrupt(PosixSignalContext context)
    {
        context.Cancel = true;
        if (!interactive || Interlocked.Exchange(ref asking, 1) == 1)
        {
            detach.Cancel();
            return;
        }

        _ = Task.Run(AskAsync);
    }

    private async Task AskAsync()
    {
        try
        {
            await Console.Error.WriteAsync("\ncancel the command? [y/N] ");
            var answer = await ConsoleLines.ReadAsync(detach.Token);
            if (answer?.Trim().ToLowerInvariant() is "y" or "yes")
            {
                await cancelCommand(detach.Token);
                await Console.Error.WriteLineAsync("[cancelling: waiting for the command to stop]");
            }
        }
        catch (Exception e) when (Failures.Describe(e) is { } failure)
        {
            Commands.Actions.Fail(failure.Message);
        }
        catch (OperationCanceledException)
        {
            // Detached meanwhile.
        }
        finally
        {
            Volatile.Write(ref asking, 0);
        }
    }
}
