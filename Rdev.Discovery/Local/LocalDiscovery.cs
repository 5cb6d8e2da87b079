using Microsoft.Extensions.Options;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Local;

/// <summary>
/// The local runtime: rescans the projects root whenever a FileSystemWatcher on it reports a change (a folder
/// created, renamed or removed; debounced, so a burst causes one scan) and every <c>Rdev:Local:RescanInterval</c>,
/// which also picks up edits to a project's <c>.rdev.yaml</c> (read only as a small regular file: see
/// <see cref="WorkspaceFile"/>). The watch is not recursive on purpose: a recursive one
/// costs an inotify watch per folder of every workspace (node_modules, .git) and can exhaust the per-user limit.
/// </summary>
public sealed partial class LocalDiscovery(
    IOptions<DiscoveryOptions> options,
    ProjectPublisher publisher,
    DiscoveryHealth health,
    DiscoveryMetrics metrics,
    ILogger<LocalDiscovery> logger) : BackgroundService
{
    public const string HealthSource = "local";
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Local;
        var issues = new IssueReporter(metrics, logger);
        if (string.IsNullOrWhiteSpace(settings.ProjectsRoot))
        {
            health.Report(HealthSource, live: false, "Rdev:Local:ProjectsRoot is not set.");
            LogNoRoot(logger);
            return;
        }

        var root = Path.GetFullPath(settings.ProjectsRoot);
        LogDiscovering(logger, root);
        FileSystemWatcher? watcher = null;
        var reason = DiscoveryEvents.LocalRescan;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!Directory.Exists(root))
                {
                    // A watcher on a deleted folder never fires again; a new one is made when it is back.
                    watcher?.Dispose();
                    watcher = null;
                }
                else
                {
                    watcher ??= TryWatch(root);
                }

                await ScanAsync(root, settings, issues, reason, stoppingToken);
                reason = await WaitForChangeAsync(settings.RescanInterval, stoppingToken)
                    ? DiscoveryEvents.LocalChange
                    : DiscoveryEvents.LocalRescan;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            watcher?.Dispose();
        }
    }

    private async Task ScanAsync(
        string root, DiscoveryOptions.LocalSettings settings, IssueReporter issues, string reason, CancellationToken stoppingToken)
    {
        metrics.Event(reason);
        if (!Directory.Exists(root))
        {
            health.Report(HealthSource, live: false, $"Projects root {root} does not exist.");
            LogRootMissing(logger, root);
            publisher.Publish([]);
            return;
        }

        try
        {
            var (projects, found) = await LocalProjects.ScanAsync(root, settings, stoppingToken);
            issues.Report(found);
            publisher.Publish(projects);
            health.Report(HealthSource, live: true, $"Watching {root}: {projects.Count} projects.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A folder vanishing mid-scan, for example; the next event or rescan tries again.
            health.Report(HealthSource, live: false, $"Cannot scan {root}: {ex.Message}");
            LogScanFailed(logger, root, ex);
        }
    }

    private FileSystemWatcher? TryWatch(string root)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }

        try
        {
            var watcher = new FileSystemWatcher(root)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.DirectoryName,
                InternalBufferSize = 64 * 1024,
            };
            watcher.Created += (_, _) => Signal();
            watcher.Deleted += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            watcher.Error += (_, e) =>
            {
                LogWatchFailed(logger, root, e.GetException());
                Signal();
            };
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // inotify watches are a per-user limit; the periodic rescan still finds every change.
            LogCannotWatch(logger, root, ex);
            return null;
        }
    }

    private void Signal()
    {
        try
        {
            changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A scan is already due.
        }
    }

    /// <summary>True when a change was seen, false when the rescan interval passed.</summary>
    private async Task<bool> WaitForChangeAsync(TimeSpan rescanInterval, CancellationToken stoppingToken)
    {
        if (!await changed.WaitAsync(rescanInterval, stoppingToken))
        {
            return false;
        }

        await Task.Delay(Debounce, stoppingToken);
        // Changes during the debounce are covered by the scan that follows.
        changed.Wait(0, CancellationToken.None);
        return true;
    }

    [LoggerMessage(LogLevel.Error, "Rdev:Runtime is local but Rdev:Local:ProjectsRoot is not set; no projects will be discovered")]
    private static partial void LogNoRoot(ILogger logger);

    [LoggerMessage(LogLevel.Information, "Discovering local projects in {Root}")]
    private static partial void LogDiscovering(ILogger logger, string root);

    [LoggerMessage(LogLevel.Warning, "Projects root {Root} does not exist; publishing no projects")]
    private static partial void LogRootMissing(ILogger logger, string root);

    [LoggerMessage(LogLevel.Warning, "Cannot scan {Root}; retrying at the next change")]
    private static partial void LogScanFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(LogLevel.Warning, "File-system watch of {Root} overflowed or failed; rescanning")]
    private static partial void LogWatchFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Cannot watch {Root}; relying on the periodic rescan")]
    private static partial void LogCannotWatch(ILogger logger, string root, Exception exception);
}
