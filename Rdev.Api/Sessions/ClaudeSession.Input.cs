using System.Text.Json.Nodes;

namespace Rdev.Api.Sessions;

// What rdev writes to the CLI's stdin: user turns, the interrupt control request, and the end of input.
internal sealed partial class ClaudeSession
{
    private async Task SendUserAsync(string text, CancellationToken ct)
    {
        turnRunning = true;
        idleDeadline = null;
        await WriteAsync(new JsonObject
        {
            ["type"] = "user",
            ["message"] = new JsonObject { ["role"] = "user", ["content"] = text },
        }, ct);
    }

    private async Task InterruptAsync(CancellationToken ct)
    {
        if (!turnRunning || inputClosed)
        {
            return;
        }

        await WriteAsync(new JsonObject
        {
            ["type"] = "control_request",
            ["request_id"] = $"rdev-interrupt-{interruptsSeen}",
            ["request"] = new JsonObject { ["subtype"] = "interrupt" },
        }, ct);
    }

    private async Task CloseInputAsync(CancellationToken ct)
    {
        if (inputClosed)
        {
            return;
        }

        inputClosed = true;
        idleDeadline = null;
        try
        {
            await process.CloseInputAsync(ct);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or Execution.RuntimeUnavailableException)
        {
            // Closed already (by the replica that ran the session before a takeover) or the run is gone.
            SessionLog.InputFailed(logger, command.Id, ex);
        }
    }

    private async Task WriteAsync(JsonObject line, CancellationToken ct)
    {
        if (inputClosed)
        {
            return;
        }

        try
        {
            await process.WriteInputLineAsync(line.ToJsonString(), ct);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // The CLI's input is closed or its run is gone: its exit ends the command. (A runtime outage is not caught:
            // the session retries the step.)
            inputClosed = true;
            SessionLog.InputFailed(logger, command.Id, ex);
        }
    }
}
