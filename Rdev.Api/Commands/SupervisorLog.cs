namespace Rdev.Api.Commands;

internal static partial class SupervisorLog
{
    [LoggerMessage(LogLevel.Warning, "Storing a command's events or status failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void WriteRetried(ILogger logger, int attempt, TimeSpan delay, Exception? exception);

    [LoggerMessage(LogLevel.Warning, "Command {CommandId}: its output could not be stored for {Seconds} s; stopping it")]
    public static partial void WritesStalled(ILogger logger, Guid commandId, double seconds);

    [LoggerMessage(LogLevel.Error, "Command {CommandId}: its final status {Status} could not be stored; the sweep will record it")]
    public static partial void FinalWriteFailed(ILogger logger, Guid commandId, string status, Exception exception);

    [LoggerMessage(LogLevel.Information, "Command {CommandId}: {Count} characters of its output were stored as U+FFFD")]
    public static partial void Replaced(ILogger logger, Guid commandId, long count);

    [LoggerMessage(LogLevel.Warning, "Finalised {Count} commands of this replica that no longer ran")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(LogLevel.Information, "Took over command {CommandId}; re-attaching at stdout byte {Stdout}, stderr byte {Stderr}")]
    public static partial void TookOver(ILogger logger, Guid commandId, long stdout, long stderr);

    [LoggerMessage(LogLevel.Information, "Released {Count} running commands to the other replicas")]
    public static partial void Released(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "Releasing this replica's commands failed; the others take them over once its heartbeat is stale")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Command {CommandId}: re-attaching failed; retrying at the next heartbeat")]
    public static partial void AttachFailed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Information, "Command {CommandId}: another replica holds it now; letting go")]
    public static partial void LeaseLost(ILogger logger, Guid commandId);

    [LoggerMessage(LogLevel.Warning, "Command {CommandId}: its process is gone")]
    public static partial void RunLost(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Debug, "Removing the run folder of command {CommandId} failed; the sweep retries")]
    public static partial void RemoveFailed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Command heartbeat failed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Command {CommandId} could not start")]
    public static partial void StartFailed(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Error, "Command {CommandId} failed inside rdev")]
    public static partial void FailedInside(ILogger logger, Guid commandId, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not signal command {CommandId}")]
    public static partial void SignalFailed(ILogger logger, Guid commandId, Exception exception);
}
