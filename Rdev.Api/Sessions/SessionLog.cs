namespace Rdev.Api.Sessions;

internal static partial class SessionLog
{
    [LoggerMessage(LogLevel.Error, "The Claude session of command {CommandId} failed; its input is closed")]
    public static partial void Failed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Warning, "A step of the Claude session of command {CommandId} failed; retrying it")]
    public static partial void StepFailed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Information, "Command {CommandId} asks to use tool {ToolName} (approval {ApprovalId})")]
    public static partial void ApprovalRequested(ILogger logger, Guid commandId, Guid approvalId, string toolName);

    [LoggerMessage(LogLevel.Information, "The Claude session of command {CommandId} was idle too long; closing it")]
    public static partial void Idle(ILogger logger, Guid commandId);

    [LoggerMessage(LogLevel.Debug, "Writing to the Claude session of command {CommandId} failed")]
    public static partial void InputFailed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Information, "Resuming the Claude session of command {CommandId} in status {Status} with {Pending} pending approvals")]
    public static partial void Resumed(ILogger logger, Guid commandId, string status, int pending);
}
