using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Rdev.Discovery.Projects;

/// <summary>
/// Hands the latest desired set to <see cref="ProjectStore"/>. Sets that arrive while a write is under way collapse
/// into the newest one. The first write, the one after a failure and one every <c>Rdev:ResyncInterval</c> (which
/// repairs rows someone changed by hand) are full writes; every other write carries only what changed since the last
/// successful one. A failed write is retried with backoff (the API may not have created the table yet, or the
/// database restarts) while newer sets keep replacing the one waiting.
/// </summary>
public sealed partial class ProjectPublisher(
    ProjectStore store, IOptions<DiscoveryOptions> options, DiscoveryHealth health, DiscoveryMetrics metrics, ILogger<ProjectPublisher> logger)
    : BackgroundService
{
    public const string HealthSource = "publisher";
    private const string MissingTable = "the projects table does not exist yet (the API creates it at start-up)";

    private readonly Channel<Func<IEnumerable<DiscoveredProject>>> pending = Channel.CreateBounded<Func<IEnumerable<DiscoveredProject>>>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    // 100 ms doubling to at most 30 s, with jitter, for as long as discovery runs.
    private readonly ResiliencePipeline retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<NpgsqlException>().Handle<InvalidOperationException>().Handle<TimeoutException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(30),
            OnRetry = args =>
            {
                metrics.Event(DiscoveryEvents.PublishFailed);
                var ex = args.Outcome.Exception;
                if (ex is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable })
                {
                    // Expected while the API has not started yet: said plainly, without a stack trace.
                    health.Report(HealthSource, live: false, $"Cannot write projects: {MissingTable}");
                    LogWriteFailed(logger, MissingTable, args.AttemptNumber + 1, args.RetryDelay, null);
                }
                else
                {
                    health.Report(HealthSource, live: false, $"Cannot write projects: {ex?.Message}");
                    LogWriteFailed(logger, ex?.GetType().Name ?? "unknown", args.AttemptNumber + 1, args.RetryDelay, ex);
                }

                return ValueTask.CompletedTask;
            },
        })
        .Build();

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

            var current = next;
            if (!resync && written is not null && written.SequenceEqual(current))
            {
                latest = current;
                continue;
            }

            var retrying = false;
            try
            {
                await retry.ExecuteAsync(async ct =>
                {
                    if (retrying)
                    {
                        // After a failure nothing is known to be written: write everything, and the newest set if
                        // one arrived while waiting.
                        written = null;
                        if (pending.Reader.TryRead(out var newer))
                        {
                            current = [.. newer().OrderBy(p => p.Name, StringComparer.Ordinal)];
                        }
                    }

                    retrying = true;
                    await WriteAsync(current, resync ? null : written, ct);
                    written = current;
                }, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            latest = current;
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
            LogPublished(logger, projects.Count, string.Join(", ", changed));
        }
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

    [LoggerMessage(LogLevel.Information, "Published {Count} projects; changed: {Changed}")]
    private static partial void LogPublished(ILogger logger, int count, string changed);

    [LoggerMessage(LogLevel.Warning, "Cannot write projects ({Reason}); retry {Attempt} in {Delay}")]
    private static partial void LogWriteFailed(ILogger logger, string reason, int attempt, TimeSpan delay, Exception? exception);
}
