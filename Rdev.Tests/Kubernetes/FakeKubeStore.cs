using System.Globalization;
using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>A served core/v1 resource: its URL plural, kind and list kind.</summary>
public sealed record KubeResource(string Plural, string Kind, string ListKind, Func<string, IKubernetesObject<V1ObjectMeta>> Deserialize)
{
    public static readonly KubeResource Pods = new("pods", "Pod", "PodList", json => KubernetesJson.Deserialize<V1Pod>(json));
    public static readonly KubeResource ConfigMaps = new("configmaps", "ConfigMap", "ConfigMapList", json => KubernetesJson.Deserialize<V1ConfigMap>(json));

    public static KubeResource? FromPlural(string plural) => plural switch
    {
        "pods" => Pods,
        "configmaps" => ConfigMaps,
        _ => null,
    };

    public IKubernetesObject<V1ObjectMeta> Copy(IKubernetesObject<V1ObjectMeta> obj) => Deserialize(KubernetesJson.Serialize(obj));
}

/// <summary>One change as stored in the history: the new state and, for updates and deletes, the previous one.</summary>
internal sealed record StoreEvent(long Revision, KubeResource Resource, string Type, IKubernetesObject<V1ObjectMeta> Object, IKubernetesObject<V1ObjectMeta>? Previous);

/// <summary>One line of a watch stream before serialization.</summary>
internal readonly record struct WatchItem(string Type, object Object);

/// <summary>
/// The fake's etcd: objects by (resource, namespace, name), one global revision counter, a bounded
/// history of changes for watches that resume from a resourceVersion, and the open watches.
/// Every change happens under one lock, so a watch never misses or reorders an event.
/// </summary>
internal sealed class FakeKubeStore
{
    private const int MaxHistory = 10_000;
    private readonly Lock gate = new();
    private readonly Dictionary<(KubeResource, string, string), IKubernetesObject<V1ObjectMeta>> objects = [];
    private readonly List<StoreEvent> history = [];
    private readonly List<WatchSubscription> watchers = [];
    private long revision = 100;
    private long compactedRevision = 100;

    public long Revision
    {
        get { lock (gate) { return revision; } }
    }

    public int WatchCount
    {
        get { lock (gate) { return watchers.Count; } }
    }

    public IKubernetesObject<V1ObjectMeta>? Get(KubeResource resource, string ns, string name)
    {
        lock (gate)
        {
            return objects.GetValueOrDefault((resource, ns, name));
        }
    }

    public (IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Items, long Revision) List(KubeResource resource, string? ns, LabelSelector labels, FieldSelector fields)
    {
        lock (gate)
        {
            var items = objects.Where(kv => kv.Key.Item1 == resource && (ns is null || kv.Key.Item2 == ns))
                .OrderBy(kv => kv.Key.Item2, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item3, StringComparer.Ordinal)
                .Select(kv => kv.Value)
                .Where(o => labels.Matches(o.Metadata.Labels) && fields.Matches(o))
                .ToList();
            return (items, revision);
        }
    }

    /// <summary>Creates an object: namespace, uid, creationTimestamp and resourceVersion are assigned here.</summary>
    public IKubernetesObject<V1ObjectMeta> Create(KubeResource resource, string ns, IKubernetesObject<V1ObjectMeta> input, bool resetPodStatus)
    {
        var obj = resource.Copy(input);
        obj.Metadata ??= new V1ObjectMeta();
        CheckNamespace(obj, ns);
        obj.ApiVersion = "v1";
        obj.Kind = resource.Kind;
        if (string.IsNullOrEmpty(obj.Metadata.Name) && !string.IsNullOrEmpty(obj.Metadata.GenerateName))
        {
            obj.Metadata.Name = obj.Metadata.GenerateName + RandomSuffix();
        }
        if (obj is V1Pod pod && (resetPodStatus || pod.Status is null))
        {
            pod.Status = new V1PodStatus { Phase = "Pending" };
        }
        ThrowIfInvalid(resource, obj);
        lock (gate)
        {
            if (objects.ContainsKey((resource, ns, obj.Metadata.Name)))
            {
                throw new KubeStatusException(KubeStatus.AlreadyExists(resource.Plural, obj.Metadata.Name));
            }
            obj.Metadata.Uid = Guid.NewGuid().ToString();
            obj.Metadata.CreationTimestamp = TruncateToSeconds(DateTime.UtcNow);
            obj.Metadata.ResourceVersion = Next();
            obj.Metadata.DeletionTimestamp = null;
            objects[(resource, ns, obj.Metadata.Name)] = obj;
            Publish(new StoreEvent(revision, resource, "ADDED", obj, null));
            return obj;
        }
    }

    /// <summary>
    /// Replaces an object. <paramref name="merge"/> decides what of the input is kept given the current
    /// object (a PUT keeps the status, a status PUT keeps all but the status); identity fields always stay.
    /// </summary>
    public IKubernetesObject<V1ObjectMeta> Update(KubeResource resource, string ns, string name, Func<IKubernetesObject<V1ObjectMeta>, IKubernetesObject<V1ObjectMeta>> merge)
    {
        lock (gate)
        {
            var current = objects.GetValueOrDefault((resource, ns, name))
                ?? throw new KubeStatusException(KubeStatus.NotFound(resource.Plural, name));
            var obj = resource.Copy(merge(resource.Copy(current)));
            obj.Metadata ??= new V1ObjectMeta();
            CheckNamespace(obj, ns);
            if (obj.Metadata.Name != name)
            {
                throw new KubeStatusException(KubeStatus.BadRequest($"the name of the object ({obj.Metadata.Name}) does not match the name on the URL ({name})"));
            }
            if (!string.IsNullOrEmpty(obj.Metadata.ResourceVersion) && obj.Metadata.ResourceVersion != current.Metadata.ResourceVersion)
            {
                throw new KubeStatusException(KubeStatus.Conflict(resource.Plural, name));
            }
            obj.ApiVersion = "v1";
            obj.Kind = resource.Kind;
            obj.Metadata.Uid = current.Metadata.Uid;
            obj.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
            ThrowIfInvalid(resource, obj);
            obj.Metadata.ResourceVersion = Next();
            objects[(resource, ns, name)] = obj;
            Publish(new StoreEvent(revision, resource, "MODIFIED", obj, current));
            return obj;
        }
    }

    /// <summary>Deletes at once (no grace period) and returns the final state carrying the delete's resourceVersion.</summary>
    public IKubernetesObject<V1ObjectMeta> Delete(KubeResource resource, string ns, string name)
    {
        lock (gate)
        {
            if (!objects.Remove((resource, ns, name), out var current))
            {
                throw new KubeStatusException(KubeStatus.NotFound(resource.Plural, name));
            }
            var final = resource.Copy(current);
            final.Metadata.ResourceVersion = Next();
            Publish(new StoreEvent(revision, resource, "DELETED", final, current));
            return final;
        }
    }

    /// <summary>Forgets all history: a watch from any older resourceVersion now gets 410 Expired.</summary>
    public void Compact()
    {
        lock (gate)
        {
            history.Clear();
            compactedRevision = revision;
        }
    }

    /// <summary>
    /// Registers a watch. Its channel first holds the replay (history after <paramref name="resourceVersion"/>,
    /// or the current objects as ADDED when it is empty or "0"), then live events. Returns null when the
    /// resourceVersion is older than the compacted history (the caller answers 410 Expired).
    /// </summary>
    public WatchSubscription? Subscribe(KubeResource resource, string? ns, LabelSelector labels, FieldSelector fields, string? resourceVersion, bool sendInitialEvents, out V1Status? expired)
    {
        expired = null;
        var subscription = new WatchSubscription(this, resource, ns, labels, fields);
        lock (gate)
        {
            var fromStart = string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0";
            if (fromStart || sendInitialEvents)
            {
                foreach (var obj in List(resource, ns, labels, fields).Items)
                {
                    subscription.Channel.Writer.TryWrite(new WatchItem("ADDED", obj));
                }
            }
            if (!fromStart)
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw new KubeStatusException(KubeStatus.BadRequest($"resourceVersion: Invalid value: \"{resourceVersion}\": must be a non-negative integer"));
                }
                if (from < compactedRevision)
                {
                    expired = KubeStatus.Expired(from, compactedRevision);
                    return null;
                }
                if (!sendInitialEvents)
                {
                    foreach (var e in history.Where(e => e.Revision > from))
                    {
                        subscription.Offer(e);
                    }
                }
            }
            watchers.Add(subscription);
            return subscription;
        }
    }

    /// <summary>The resourceVersion a bookmark may carry: current only if the watch has nothing left to send.</summary>
    internal long? BookmarkRevision(WatchSubscription subscription)
    {
        lock (gate)
        {
            return subscription.Channel.Reader.Count == 0 ? revision : null;
        }
    }

    internal void Unsubscribe(WatchSubscription subscription)
    {
        lock (gate)
        {
            watchers.Remove(subscription);
        }
    }

    private void Publish(StoreEvent e)
    {
        history.Add(e);
        if (history.Count > MaxHistory)
        {
            compactedRevision = history[0].Revision;
            history.RemoveAt(0);
        }
        foreach (var watcher in watchers)
        {
            watcher.Offer(e);
        }
    }

    private string Next() => (++revision).ToString(CultureInfo.InvariantCulture);

    private static void CheckNamespace(IKubernetesObject<V1ObjectMeta> obj, string ns)
    {
        if (!string.IsNullOrEmpty(obj.Metadata.NamespaceProperty) && obj.Metadata.NamespaceProperty != ns)
        {
            throw new KubeStatusException(KubeStatus.BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
        }
        obj.Metadata.NamespaceProperty = ns;
    }

    private static void ThrowIfInvalid(KubeResource resource, IKubernetesObject<V1ObjectMeta> obj)
    {
        var causes = KubeValidation.ValidateObject(obj);
        if (causes.Count > 0)
        {
            throw new KubeStatusException(KubeStatus.Invalid(resource.Kind, obj.Metadata.Name ?? "", causes));
        }
    }

    private static DateTime TruncateToSeconds(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Concat(Enumerable.Range(0, 5).Select(_ => alphabet[Random.Shared.Next(alphabet.Length)]));
    }
}
