namespace Rdev.Discovery.Kubernetes;

/// <summary>How one watch of a <see cref="ResourceWatcher{T, TList}"/> ended.</summary>
internal enum WatchEnding { Closed, Expired, Stalled, Failed }

/// <summary>The log lines of the Kubernetes discovery (the watcher is generic, so they live here).</summary>
internal static partial class WatchLog
{
    [LoggerMessage(LogLevel.Information, "Discovering projects in namespace {Namespace}: pods labeled {Selector} and ConfigMap {ConfigMap}")]
    public static partial void Discovering(ILogger logger, string @namespace, string selector, string configMap);

    // Information for a clean resume, Warning when it waits first.
    [LoggerMessage("Watch of {Resource} ended ({Ending}: {Detail}); {Next} in {Delay} (failures in a row: {Failures})")]
    public static partial void WatchEnded(
        ILogger logger, LogLevel level, string resource, WatchEnding ending, string detail, string next, TimeSpan delay, int failures);
}
