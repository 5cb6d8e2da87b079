using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// One open watch. Translates store events as the API server's watch cache does: an object that stops
/// matching the selectors is sent as DELETED (its previous state, at the new resourceVersion), one that
/// starts matching as ADDED.
/// </summary>
internal sealed class WatchSubscription(FakeKubeStore store, KubeResource resource, string? ns, LabelSelector labels, FieldSelector fields) : IDisposable
{
    public Channel<WatchItem> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<WatchItem>();

    public KubeResource Resource => resource;

    public long? BookmarkRevision() => store.BookmarkRevision(this);

    public void Offer(StoreEvent e)
    {
        if (e.Resource != resource || (ns is not null && e.Object.Metadata.NamespaceProperty != ns))
        {
            return;
        }
        var now = e.Type != "DELETED" && Matches(e.Object);
        var before = e.Previous is not null && Matches(e.Previous);
        var item = (now, before) switch
        {
            (true, false) => new WatchItem("ADDED", e.Object),
            (true, true) => new WatchItem("MODIFIED", e.Object),
            (false, true) => new WatchItem("DELETED", WithRevision(e.Previous!, e.Object.Metadata.ResourceVersion)),
            _ => (WatchItem?)null,
        };
        if (item is { } i)
        {
            Channel.Writer.TryWrite(i);
        }
    }

    public void Dispose()
    {
        store.Unsubscribe(this);
        Channel.Writer.TryComplete();
    }

    private bool Matches(IKubernetesObject<V1ObjectMeta> obj) => labels.Matches(obj.Metadata.Labels) && fields.Matches(obj);

    private IKubernetesObject<V1ObjectMeta> WithRevision(IKubernetesObject<V1ObjectMeta> obj, string revision)
    {
        var copy = resource.Copy(obj);
        copy.Metadata.ResourceVersion = revision;
        return copy;
    }
}
