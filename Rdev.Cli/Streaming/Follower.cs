using Rdev.Cli.Commands;
using Rdev.Client;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Follows one command's stream to its final status through the client's reconnecting SSE reader (Last-Event-ID, so an
/// API restart costs no line and repeats none), prints it with a <see cref="StreamRenderer"/>, and turns the final
/// status into the exit code. Ctrl+C and SIGTERM go through <see cref="Interrupts"/>; with <c>followUps</c> (claude
/// --keep-open) each line on stdin becomes the session's next message.
/// </summary>
public sealed class Follower(RdevClient api, Guid id, bool json, bool followUps)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var interrupts = new Interrupts(ct => api.V1.Commands[id].Cancel.PostAsync(cancellationToken: ct));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupts.Detached);
        var renderer = new StreamRenderer(Console.Out, Console.Error, json, id.ToString());
        try
        {
            await foreach (var item in api.StreamCommandAsync(id, cancellationToken: stop.Token))
            {
                renderer.Render(item);
                if (item.Status is { IsFinal: true } end)
                {
                    return await ExitCodeAsync(end.Status, end.ExitCode, stop.Token);
                }

                if (followUps && item.Status?.Status == "waiting_input")
                {
                    _ = Task.Run(() => SendFollowUpAsync(stop.Token), stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (interrupts.Detached.IsCancellationRequested)
        {
            return Detached();
        }

        if (interrupts.Detached.IsCancellationRequested)
        {
            return Detached();
        }

        // The stream ended without a final status: the API closed it for good (the key was revoked or expired).
        throw new CliException(ExitCodes.Problem, $"the API ended the stream of command {id} (was the key revoked?)");
    }

    private int Detached()
    {
        Console.Error.WriteLine($"rdev: detached from command {id}; it keeps running (rdev logs {id} --follow, rdev cancel {id})");
        return ExitCodes.Detached;
    }

    private async Task<int> ExitCodeAsync(string status, int? exitCode, CancellationToken cancellationToken)
    {
        if (status is "failed" or "lost" && exitCode is null)
        {
            // Why it failed without an exit code (it could not start, or its process vanished) is in the record.
            var record = await api.V1.Commands[id].GetAsync(cancellationToken: cancellationToken);
            Actions.Fail($"command {id} {status}{(record?.Error is { Length: > 0 } error ? $": {error}" : "")}");
        }

        return ExitCodeOf.Status(status, exitCode);
    }

    private async Task SendFollowUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!Console.IsInputRedirected)
            {
                await Console.Error.WriteAsync("you> ");
            }

            var line = await ConsoleLines.ReadAsync(cancellationToken);
            if (string.IsNullOrWhiteSpace(line))
            {
                await api.V1.Commands[id].Close.PostAsync(cancellationToken: cancellationToken);
                return;
            }

            await api.V1.Commands[id].Messages.PostAsync(new Rdev.Client.Generated.Models.SessionMessage { Text = line },
                cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The run ended or was detached meanwhile.
        }
        catch (Exception e) when (Failures.Describe(e) is { } failure)
        {
            Actions.Fail(failure.Message);
        }
    }
}
