namespace Rdev.Discovery.Projects;

/// <summary>
/// Something discovery skipped or could not use (a malformed entry, a bad name, a duplicate). Each distinct issue is
/// logged and counted once when it first appears, not on every recomputation.
/// </summary>
public sealed record DiscoveryIssue(string Type, string Subject, string Message, LogLevel Level = LogLevel.Warning)
{
    public static DiscoveryIssue Warning(string type, string subject, string message) => new(type, subject, message);
}

/// <summary>Logs and counts the issues that are new since the previous call; forgets the ones that went away.</summary>
public sealed partial class IssueReporter(DiscoveryMetrics metrics, ILogger logger)
{
    private HashSet<DiscoveryIssue> reported = [];

    public void Report(IEnumerable<DiscoveryIssue> issues)
    {
        var current = issues.ToHashSet();
        foreach (var issue in current.Where(i => !reported.Contains(i)))
        {
            metrics.Event(issue.Type);
            LogIssue(logger, issue.Level, issue.Type, issue.Subject, issue.Message);
        }
        reported = current;
    }

    [LoggerMessage("Discovery {IssueType} for {Subject}: {Message}")]
    private static partial void LogIssue(ILogger logger, LogLevel level, string issueType, string subject, string message);
}
