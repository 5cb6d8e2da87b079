using k8s;
using k8s.Models;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>
/// What the two watches currently know (labeled pods, the settings ConfigMap). Every change asks the publisher for a
/// write, which computes the project set from the state as it is then, but only once both watches have listed: a set
/// built from pods alone would briefly drop the settings of every project.
/// </summary>
public sealed class ClusterState(string ns, ProjectPublisher publisher, IssueReporter issues)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, V1Pod> pods = new(StringComparer.Ordinal);
    private ClusterProjects.Settings settings = ClusterProjects.Settings.Empty;
    private bool podsListed;
    private bool configMapListed;

    public IWatchSink<V1Pod> Pods => new PodSink(this);

    public IWatchSink<V1ConfigMap> ConfigMap => new ConfigMapSink(this);

    private void Change(Action change)
    {
        lock (gate)
        {
            change();
            if (!podsListed || !configMapListed)
            {
                return;
            }

            publisher.Publish(Compute);
        }
    }

    private IEnumerable<DiscoveredProject> Compute()
    {
        lock (gate)
        {
            var (projects, found) = ClusterProjects.Merge(ns, pods.Values, settings);
            issues.Report(found);
            return projects;
        }
    }

    private sealed class PodSink(ClusterState state) : IWatchSink<V1Pod>
    {
        public void Reset(IReadOnlyList<V1Pod> items) => state.Change(() =>
        {
            state.pods.Clear();
            foreach (var pod in items)
            {
                state.pods[pod.Metadata.Name] = pod;
            }
            state.podsListed = true;
        });

        public void Apply(WatchEventType type, V1Pod item) => state.Change(() =>
        {
            if (type == WatchEventType.Deleted)
            {
                state.pods.Remove(item.Metadata.Name);
            }
            else
            {
                state.pods[item.Metadata.Name] = item;
            }
        });
    }

    private sealed class ConfigMapSink(ClusterState state) : IWatchSink<V1ConfigMap>
    {
        // The list and watch select the one ConfigMap by name, so at most one item arrives.
        public void Reset(IReadOnlyList<V1ConfigMap> items) => state.Change(() =>
        {
            state.settings = ClusterProjects.ParseConfigMap(items.Count > 0 ? items[0] : null);
            state.configMapListed = true;
        });

        public void Apply(WatchEventType type, V1ConfigMap item) => state.Change(() =>
            state.settings = ClusterProjects.ParseConfigMap(type == WatchEventType.Deleted ? null : item));
    }
}
