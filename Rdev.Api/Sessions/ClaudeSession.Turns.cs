using System.Text.Json;
using Rdev.Api.Commands;

namespace Rdev.Api.Sessions;

// Turns: the end of one, the next follow-up, and picking a session up after another replica ran it.
internal sealed partial class ClaudeSession
{
    /// <summary>
    /// After a takeover: the prompt went out already, and what the session waits for is in Postgres. Whether a turn
    /// runs follows from the stored status; the output re-read from the stored offsets replays any later result line.
    /// Interrupts asked before the takeover count as sent (sending one again could stop the next turn); a decision
    /// whose answer was never written is answered now.
    /// </summary>
    private async Task ResumeAsync(CancellationToken ct)
    {
        status = command.Status == CommandStatuses.Queued ? CommandStatuses.Running : command.Status;
        turnRunning = status != CommandStatuses.WaitingInput;
        (interruptsSeen, closeRequested) = await store.RequestsAsync(command.Id, ct);
        foreach (var approval in await store.ListOpenApprovalsAsync(command.Id, ct))
        {
            pending[approval.Id] = approval;
        }

        SessionLog.Resumed(logger, command.Id, status, pending.Count);
        // Decisions taken while no replica ran the session are answered now.
        await LoadDecisionsAsync(ct);
        if (!turnRunning)
        {
            if (closeRequested || !keepOpen)
            {
                await CloseInputAsync(ct);
            }
            else
            {
                idleDeadline = time.GetUtcNow() + idleTimeout;
            }
        }
    }

    private async Task TurnEndedAsync(CancellationToken ct)
    {
        turnRunning = false;
        // Requests the turn left undecided (an interrupt) are moot now.
        foreach (var approval in pending.Values.ToList())
        {
            pending.Remove(approval.Id);
            if (await store.ExpireAsync(approval.Id, "The turn ended before a decision.", ct) is { } expired)
            {
                await EmitApprovalAsync(expired);
            }
        }

        if (await SendNextMessageAsync(ct))
        {
            return;
        }

        if (closeRequested || !keepOpen)
        {
            await CloseInputAsync(ct);
            return;
        }

        idleDeadline = time.GetUtcNow() + idleTimeout;
        await SetStatusAsync(CommandStatuses.WaitingInput);
    }

    /// <summary>Sends the oldest unsent follow-up when no turn runs; true when it sent one.</summary>
    private async Task<bool> SendNextMessageAsync(CancellationToken ct)
    {
        if (turnRunning || inputClosed)
        {
            return false;
        }

        var messages = await store.UnsentMessagesAsync(command.Id, ct);
        if (messages.Count == 0)
        {
            return false;
        }

        // Marked first: a step retried after a failure must not send it twice.
        var (id, text) = messages[0];
        await store.MarkSentAsync(id, ct);
        await SendUserAsync(text, ct);
        await EmitAsync(EventTypes.Message, JsonSerializer.Serialize(new { text }, RdevJson.OmitNulls));
        await SetStatusAsync(CommandStatuses.Running);
        return true;
    }
}
