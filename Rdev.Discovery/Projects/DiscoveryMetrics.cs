using System.Diagnostics.Metrics;

namespace Rdev.Discovery.Projects;

/// <summary>
/// Meter <c>Rdev.Discovery</c> (SPEC section 8): <c>rdev_discovery_projects{status}</c>, <c>rdev_discovery_events_total{type}</c>
/// and <c>rdev_kubernetes_circuit_state</c> (registered by the circuit itself).
/// </summary>
public sealed class DiscoveryMetrics
{
    public const string MeterName = "Rdev.Discovery";

    private readonly Counter<long> events;
    private volatile IReadOnlyList<DiscoveredProject> published = [];

    public DiscoveryMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        events = Meter.CreateCounter<long>("rdev_discovery_events_total", description: "Discovery events by type: watch events, relists, reconnects, skipped entries, publishes.");
        Meter.CreateObservableGauge("rdev_discovery_projects", ObserveProjects, description: "Projects discovery currently publishes, by status.");
    }

    public Meter Meter { get; }

    public void Event(string type) => events.Add(1, new KeyValuePair<string, object?>("type", type));

    public void Published(IReadOnlyList<DiscoveredProject> projects) => published = projects;

    private IEnumerable<Measurement<long>> ObserveProjects()
    {
        var snapshot = published;
        return ProjectStatus.Live.Select(status => new Measurement<long>(
            snapshot.Count(p => p.Status == status), new KeyValuePair<string, object?>("status", status)));
    }
}

/// <summary>Values of the <c>type</c> tag of <c>rdev_discovery_events_total</c>.</summary>
public static class DiscoveryEvents
{
    public const string PodAdded = "pod_added";
    public const string PodModified = "pod_modified";
    public const string PodDeleted = "pod_deleted";
    public const string ConfigMapChanged = "configmap_changed";
    public const string Bookmark = "bookmark";
    public const string Relist = "relist";
    public const string WatchExpired = "watch_expired";
    public const string WatchClosed = "watch_closed";
    public const string WatchError = "watch_error";
    public const string MalformedEntry = "malformed_entry";
    public const string PolicyRefused = "policy_refused";
    public const string InvalidName = "invalid_name";
    public const string DuplicateName = "duplicate_name";
    public const string InvalidAnnotation = "invalid_annotation";
    public const string MissingPod = "missing_pod";
    public const string LocalChange = "local_change";
    public const string LocalRescan = "local_rescan";
    public const string Published = "published";
    public const string PublishFailed = "publish_failed";
}
