using k8s;
using k8s.Autorest;
using k8s.Models;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>Receives what a <see cref="ResourceWatcher{T, TList}"/> sees: a full list, then each change.</summary>
public interface IWatchSink<in T>
{
    void Reset(IReadOnlyList<T> items);

    void Apply(WatchEventType type, T item);
}

/// <summary>
/// A list + watch loop that never trusts the connection (KubeOps' ResourceWatcher, client-go's reflector): list, then
/// watch from the list's resourceVersion with bookmarks. A watch the server ends cleanly is resumed from the last
/// resourceVersion seen (event or bookmark); if that is too old the server answers 410 Gone and the loop lists again.
/// A dropped connection, an empty response, a stall or any error also leads to a fresh list, after a delay of
/// base × 2^min(n,5) plus jitter, where n counts failures in a row. Every reconnect is logged.
/// </summary>
public sealed class ResourceWatcher<T, TList>(
    string resource,
    Func<string?, CancellationToken, Task<TList>> listPage,
    Func<string, TimeSpan, CancellationToken, Task<HttpOperationResponse<TList>>> openWatch,
    IWatchSink<T> sink,
    KubernetesCircuit circuit,
    DiscoveryHealth health,
    DiscoveryMetrics metrics,
    DiscoveryOptions.KubernetesSettings settings,
    ILogger logger)
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var expiredInARow = 0;
        string? resourceVersion = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            WatchEnding ending;
            string detail;
            var delivered = false;
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(stoppingToken);
                    health.Report(resource, live: true, $"Watching from resourceVersion {resourceVersion}.");
                }

                (ending, delivered, detail, resourceVersion) = await WatchAsync(resourceVersion, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                (ending, detail) = (WatchEnding.Failed, Describe(ex));
            }

            if (delivered)
            {
                failures = 0;
            }
            else if (ending == WatchEnding.Closed)
            {
                // A watch that ends before its first line (KubernetesClient 21 throws for that; others may not)
                // must not become a tight resume loop.
                ending = WatchEnding.Failed;
            }

            expiredInARow = ending == WatchEnding.Expired && !delivered ? expiredInARow + 1 : 0;
            var delay = TimeSpan.Zero;
            if (ending is WatchEnding.Stalled or WatchEnding.Failed || expiredInARow > 1)
            {
                delay = settings.RetryBaseDelay * Math.Pow(2, Math.Min(failures, 5))
                    + settings.RetryBaseDelay * Random.Shared.NextDouble();
                failures++;
            }

            if (ending != WatchEnding.Closed)
            {
                resourceVersion = null;
            }

            metrics.Event(ending switch
            {
                WatchEnding.Expired => DiscoveryEvents.WatchExpired,
                WatchEnding.Closed => DiscoveryEvents.WatchClosed,
                _ => DiscoveryEvents.WatchError,
            });
            var level = delay == TimeSpan.Zero ? LogLevel.Information : LogLevel.Warning;
            if (logger.IsEnabled(level))
            {
                WatchLog.WatchEnded(logger, level, resource, ending, detail,
                    resourceVersion is null ? "relisting" : $"resuming from {resourceVersion}", delay, failures);
            }

            if (delay > TimeSpan.Zero)
            {
                health.Report(resource, live: false, $"Reconnecting after {ending}: {detail}");
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Lists every page (one consistent snapshot), hands it to the sink, returns its resourceVersion.</summary>
    private async Task<string> ListAsync(CancellationToken stoppingToken)
    {
        metrics.Event(DiscoveryEvents.Relist);
        var items = new List<T>();
        string? resourceVersion = null;
        string? continueToken = null;
        do
        {
            var page = await circuit.ExecuteAsync(async ct => await listPage(continueToken, ct), stoppingToken);
            resourceVersion ??= page.Metadata.ResourceVersion;
            continueToken = page.Metadata.ContinueProperty;
            items.AddRange(page.Items);
        }
        while (!string.IsNullOrEmpty(continueToken));

        sink.Reset(items);
        return resourceVersion;
    }

    private async Task<(WatchEnding Ending, bool Delivered, string Detail, string ResourceVersion)> WatchAsync(string resourceVersion, CancellationToken stoppingToken)
    {
        // The server ends the watch after a spread-out timeout, as client-go asks; a connection that goes silent for
        // longer than that plus a margin is half-open and is abandoned.
        var timeout = settings.WatchTimeout * (1 + Random.Shared.NextDouble());
        var stallAfter = timeout + TimeSpan.FromMinutes(1);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        stall.CancelAfter(stallAfter);

        Exception? error = null;
        var delivered = false;
        try
        {
            // KubernetesClient returns the response only once the first line has arrived, which bookmarks make prompt.
            var response = await circuit.ExecuteAsync(async ct => await openWatch(resourceVersion, timeout, ct), stall.Token);
#pragma warning disable CS0618 // The non-obsolete WatchListNamespacedPodAsync offers no hook between opening and reading.
            var events = Task.FromResult(response).WatchAsync<T, TList>(e => error ??= e, stall.Token);
#pragma warning restore CS0618
            await foreach (var (type, item) in events)
            {
                delivered = true;
                stall.CancelAfter(stallAfter);
                resourceVersion = item?.Metadata?.ResourceVersion ?? resourceVersion;
                switch (type)
                {
                    case WatchEventType.Bookmark:
                        metrics.Event(DiscoveryEvents.Bookmark);
                        break;
                    case WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted when item is not null:
                        sink.Apply(type, item);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (stall.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return (WatchEnding.Stalled, delivered, $"nothing received for {stallAfter}", resourceVersion);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return (WatchEnding.Failed, delivered, Describe(ex), resourceVersion);
        }

        return error switch
        {
            null => (WatchEnding.Closed, delivered, "closed by the server", resourceVersion),
            KubernetesException { Status.Code: 410 } => (WatchEnding.Expired, delivered, "410 Gone: resourceVersion too old", resourceVersion),
            _ => (WatchEnding.Failed, delivered, Describe(error), resourceVersion),
        };
    }

    private static string Describe(Exception ex) => ex switch
    {
        HttpOperationException http => $"HTTP {(int)http.Response.StatusCode} from the API server",
        KubernetesException k8s => $"{k8s.Status?.Code} {k8s.Status?.Reason}: {k8s.Status?.Message}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };
}
