using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>
/// The kubernetes runtime: one watch loop for the labeled pods and one for the settings ConfigMap, in one namespace
/// (<see cref="KubernetesNamespace"/>: <c>Rdev:Kubernetes:Namespace</c>, else the in-cluster or kubeconfig namespace,
/// else <c>default</c>).
/// Needs only get/list/watch on pods and configmaps there.
/// </summary>
public sealed class KubernetesDiscovery(
    IKubernetes client,
    KubernetesNamespace kubernetesNamespace,
    IOptions<DiscoveryOptions> options,
    KubernetesCircuit circuit,
    ProjectPublisher publisher,
    DiscoveryHealth health,
    DiscoveryMetrics metrics,
    ILoggerFactory loggers) : BackgroundService
{
    private const int PageSize = 500;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Kubernetes;
        var ns = kubernetesNamespace.Name;
        var configMapSelector = $"metadata.name={settings.ConfigMapName}";
        var logger = loggers.CreateLogger<KubernetesDiscovery>();
        WatchLog.Discovering(logger, ns, ClusterProjects.LabelSelector, settings.ConfigMapName);

        var state = new ClusterState(ns, publisher, new IssueReporter(metrics, logger));
        var pods = new ResourceWatcher<V1Pod, V1PodList>(
            "pods",
            (continueToken, ct) => client.CoreV1.ListNamespacedPodAsync(
                ns, continueParameter: continueToken, labelSelector: ClusterProjects.LabelSelector, limit: PageSize, cancellationToken: ct),
            (resourceVersion, timeout, ct) => client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                ns, allowWatchBookmarks: true, labelSelector: ClusterProjects.LabelSelector, resourceVersion: resourceVersion,
                timeoutSeconds: (int)timeout.TotalSeconds, watch: true, cancellationToken: ct),
            new CountingSink<V1Pod>(state.Pods, metrics),
            circuit, health, metrics, settings, loggers.CreateLogger("Rdev.Discovery.Kubernetes.PodWatcher"));
        var configMap = new ResourceWatcher<V1ConfigMap, V1ConfigMapList>(
            "configmap",
            (continueToken, ct) => client.CoreV1.ListNamespacedConfigMapAsync(
                ns, continueParameter: continueToken, fieldSelector: configMapSelector, limit: PageSize, cancellationToken: ct),
            (resourceVersion, timeout, ct) => client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(
                ns, allowWatchBookmarks: true, fieldSelector: configMapSelector, resourceVersion: resourceVersion,
                timeoutSeconds: (int)timeout.TotalSeconds, watch: true, cancellationToken: ct),
            new CountingSink<V1ConfigMap>(state.ConfigMap, metrics),
            circuit, health, metrics, settings, loggers.CreateLogger("Rdev.Discovery.Kubernetes.ConfigMapWatcher"));

        return Task.WhenAll(pods.RunAsync(stoppingToken), configMap.RunAsync(stoppingToken));
    }

    /// <summary>Counts watch events into <c>rdev_discovery_events_total</c> on the way to the state.</summary>
    private sealed class CountingSink<T>(IWatchSink<T> inner, DiscoveryMetrics metrics) : IWatchSink<T>
    {
        public void Reset(IReadOnlyList<T> items) => inner.Reset(items);

        public void Apply(WatchEventType type, T item)
        {
            metrics.Event(item is V1ConfigMap ? DiscoveryEvents.ConfigMapChanged : type switch
            {
                WatchEventType.Added => DiscoveryEvents.PodAdded,
                WatchEventType.Deleted => DiscoveryEvents.PodDeleted,
                _ => DiscoveryEvents.PodModified,
            });
            inner.Apply(type, item);
        }
    }
}
