using System.Text.Json;
using System.Text.Json.Nodes;
using Rdev.Api.Commands;

namespace Rdev.Api.Sessions;

// Tool-permission requests: stored, shown, and answered on the CLI's stdin once decided or expired.
internal sealed partial class ClaudeSession
{
    private async Task PermissionRequestedAsync(JsonElement line, JsonElement request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var approval = new ApprovalRecord
        {
            Id = Guid.CreateVersion7(),
            RequestId = line.TryGetProperty("request_id", out var id) ? id.GetString() ?? "" : "",
            ToolName = request.TryGetProperty("tool_name", out var tool) ? tool.GetString() ?? "" : "",
            Input = request.TryGetProperty("input", out var input) ? JsonNode.Parse(input.GetRawText()) : null,
            Status = ApprovalStatuses.Pending,
            RequestedAt = now,
            ExpiresAt = now.AddSeconds(options.ApprovalTimeoutSeconds),
        };
        if (pending.Values.Any(a => a.RequestId == approval.RequestId))
        {
            return;
        }

        // Stored before it is awaited, so that whatever waits for it (a decision, the expiry) has a row to act on. A
        // request already stored is one re-read after a takeover: pending ones were loaded, answered ones are done.
        if (!await store.InsertApprovalAsync(command.Id, approval, ct))
        {
            return;
        }

        pending[approval.Id] = approval;
        await EmitApprovalAsync(approval);
        await SetStatusAsync(CommandStatuses.WaitingApproval);
        SessionLog.ApprovalRequested(logger, command.Id, approval.Id, approval.ToolName);
    }

    private async Task LoadDecisionsAsync(CancellationToken ct)
    {
        if (pending.Count == 0)
        {
            return;
        }

        foreach (var approval in await store.ListApprovalsAsync(command.Id, ct))
        {
            if (pending.ContainsKey(approval.Id) && approval.Status != ApprovalStatuses.Pending)
            {
                await AnswerAsync(approval, ct);
            }
        }
    }

    private async Task AnswerAsync(ApprovalRecord approval, CancellationToken ct)
    {
        pending.Remove(approval.Id);
        JsonObject response = approval.Status == ApprovalStatuses.Allowed
            ? new() { ["behavior"] = "allow", ["updatedInput"] = (approval.UpdatedInput ?? approval.Input)?.DeepClone() ?? new JsonObject() }
            : new() { ["behavior"] = "deny", ["message"] = approval.Message ?? "The user denied this tool use." };
        await WriteAsync(new JsonObject
        {
            ["type"] = "control_response",
            ["response"] = new JsonObject { ["subtype"] = "success", ["request_id"] = approval.RequestId, ["response"] = response },
        }, ct);
        await EmitApprovalAsync(approval);
        if (pending.Count == 0 && status == CommandStatuses.WaitingApproval)
        {
            await SetStatusAsync(CommandStatuses.Running);
        }
    }

    private Task EmitApprovalAsync(ApprovalRecord approval) =>
        EmitAsync(EventTypes.Approval, JsonSerializer.Serialize(
            new { approval.Id, approval.ToolName, approval.Input, approval.Status }, RdevJson.OmitNulls));
}
