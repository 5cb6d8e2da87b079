using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Rdev.Discovery.Projects;

/// <summary>
/// Hands the latest desired set to <see cref="ProjectStore"/>. Sets that arrive while a write is under way collapse
/// into the newest one. The first write, the one after a failure and one every <c>Rdev:ResyncInterval</c> (which
/// repairs rows someone changed by hand) are full writes; every other write carries only what changed since the last
/// successful one. A failed write is retried with backoff (the API may not have created the table yet, or the
/// database restarts) while newer sets keep replacing the one waiting.
/// </summary>
public sealed class ProjectPublisher(
    ProjectStore store, IOptions<DiscoveryOptions> options, DiscoveryHealth health, DiscoveryMetrics metrics, ILogger<ProjectPublisher> logger)
    : BackgroundService
{
    public const string HealthSource = "publisher";
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly Channel<Func<IEnumerable<DiscoveredProject>>> pending = Channel.CreateBounded<Func<IEnumerable<DiscoveredProject>>>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    /// <summary>Queues the complete desired set; only the newest queued set is written.</summary>
    public void Publish(IReadOnlyList<DiscoveredProject> projects) => pending.Writer.TryWrite(() => projects);

    /// <summary>
    /// Queues a computation of the complete desired set, run only when the publisher is ready to write: a burst of
    /// watch events then costs one computation per write instead of one per event.
    /// </summary>
    public void Publish(Func<IEnumerable<DiscoveredProject>> compute) => pending.Writer.TryWrite(compute);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        health.Report(HealthSource, live: false, "Waiting for the first complete project set.");
        IReadOnlyList<DiscoveredProject>? latest = null;
        IReadOnlyList<DiscoveredProject>? written = null;
        while (true)
        {
            var (next, resync) = await NextAsync(latest, stoppingToken);
            if (next is null)
            {
                return;
            }

            latest = next;
            if (!resync && written is not null && written.SequenceEqual(latest))
            {
                continue;
            }

            for (var failures = 1; !stoppingToken.IsCancellationRequested; failures++)
            {
                try
                {
                    await WriteAsync(latest, resync ? null : written, stoppingToken);
                    written = latest;
                    break;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    written = null;
                    await BackOffAsync(ex, failures, stoppingToken);
                    if (pending.Reader.TryRead(out var newer))
                    {
                        latest = [.. newer().OrderBy(p => p.Name, StringComparer.Ordinal)];
                    }
                }
            }
        }
    }

    private async Task WriteAsync(IReadOnlyList<DiscoveredProject> projects, IReadOnlyList<DiscoveredProject>? written, CancellationToken stoppingToken)
    {
        IReadOnlyList<string> changed;
        if (written is null)
        {
            changed = await store.WriteAllAsync(projects, stoppingToken);
        }
        else
        {
            var before = written.ToDictionary(p => p.Name, StringComparer.Ordinal);
            var names = projects.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            changed = await store.WriteChangesAsync(
                [.. projects.Where(p => !before.TryGetValue(p.Name, out var old) || !old.Equals(p))],
                [.. before.Keys.Where(name => !names.Contains(name))],
                stoppingToken);
        }

        metrics.Published(projects);
        metrics.Event(DiscoveryEvents.Published);
        health.Report(HealthSource, live: true, $"Published {projects.Count} projects.");
        if (changed.Count > 0)
        {
            logger.LogInformation("Published {Count} projects; changed: {Changed}", projects.Count, string.Join(", ", changed));
        }
    }

    private async Task BackOffAsync(Exception ex, int failures, CancellationToken stoppingToken)
    {
        metrics.Event(DiscoveryEvents.PublishFailed);
        var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures))
            + Random.Shared.Next(100));
        var reason = ex is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }
            ? "the projects table does not exist yet (the API creates it at start-up)"
            : ex.Message;
        health.Report(HealthSource, live: false, $"Cannot write projects: {reason}");
        logger.LogWarning("Cannot write projects ({Reason}); retry {Attempt} in {Delay}", reason, failures, delay);
        await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>The next queued set, or the current one again when the resync interval passes without any.</summary>
    private async Task<(IReadOnlyList<DiscoveredProject>? Set, bool Resync)> NextAsync(IReadOnlyList<DiscoveredProject>? current, CancellationToken stoppingToken)
    {
        using var resync = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (current is not null)
        {
            resync.CancelAfter(options.Value.ResyncInterval);
        }
        try
        {
            var compute = await pending.Reader.ReadAsync(resync.Token);
            return ([.. compute().OrderBy(p => p.Name, StringComparer.Ordinal)], false);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return (current, true);
        }
        catch (OperationCanceledException)
        {
            return (null, false);
        }
    }
}
