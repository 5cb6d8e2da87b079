using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server for tests that speaks the real wire protocol for core/v1 pods and configmaps:
/// discovery, list with label and field selectors, get, create, update, patch, delete, watch (history replay,
/// selector transitions, bookmarks, 410 Expired after <see cref="Compact"/>) and pod exec over WebSocket
/// (v5.channel.k8s.io and v4.channel.k8s.io) that runs a real local process. kubectl and KubernetesClient
/// talk to it unchanged, so production code is tested against what a cluster would send.
/// </summary>
/// <remarks>
/// Tests drive the cluster side through C# methods (<see cref="CreatePod"/>, <see cref="SetPodReady"/>, ...),
/// which act as the kubelet too: unlike an HTTP POST they keep a pod's given status. Every change, from C# or
/// HTTP, gets the next value of one global resourceVersion.
/// </remarks>
public sealed partial class FakeKubeApiServer : IAsyncDisposable, IDisposable
{
    /// <summary>Pod annotation (rdev convention) naming the workspace; used for exec when it is an existing local folder.</summary>
    public const string WorkspaceAnnotation = "rdev.orchard9.ai/workspace";

    private readonly FakeKubeStore store = new();
    private readonly CancellationTokenSource shutdown = new();
    private readonly ConcurrentQueue<FakeKubeRequest> requests = new();
    private readonly string scratchRoot = Directory.CreateTempSubdirectory("fake-kube-").FullName;
    private readonly string serverId = Guid.NewGuid().ToString("N");
    private WebApplication? app;
    private int disposed;

    private FakeKubeApiServer()
    {
    }

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Interval of BOOKMARK events on watches that ask for them (<c>allowWatchBookmarks=true</c>); null disables them.</summary>
    public TimeSpan? BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether a dropped exec connection kills its process. A real cluster often leaves a non-tty exec running
    /// after the client goes away; the fake kills it by default so tests leak nothing.
    /// </summary>
    public bool KillExecProcessOnDisconnect { get; set; } = true;

    /// <summary>The current global resourceVersion.</summary>
    public long ResourceVersion => store.Revision;

    /// <summary>Number of watch streams currently registered (their events are being captured).</summary>
    public int OpenWatchCount => store.WatchCount;

    /// <summary>Every HTTP request received, in order.</summary>
    public IReadOnlyList<FakeKubeRequest> Requests => [.. requests];

    /// <summary>Starts Kestrel on a free loopback port.</summary>
    public static async Task<FakeKubeApiServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new FakeKubeApiServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        server.app = app;
        server.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return server;
    }

    /// <summary>A valid pod with one container, for tests to adjust before <see cref="CreatePod"/>.</summary>
    public static V1Pod NewPod(string ns, string name, IDictionary<string, string>? labels = null, IDictionary<string, string>? annotations = null, string container = "main") => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels, Annotations = annotations },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = container, Image = "busybox:1.36" }] },
    };

    public V1Pod CreatePod(V1Pod pod) => (V1Pod)store.Create(KubeResource.Pods, NamespaceOf(pod.Metadata), pod, resetPodStatus: false);

    /// <summary>Replaces a pod wholesale, status included (the test acts as kubelet and user at once; its resourceVersion is ignored).</summary>
    public V1Pod UpdatePod(V1Pod pod) =>
        (V1Pod)store.Update(KubeResource.Pods, NamespaceOf(pod.Metadata), pod.Metadata.Name, _ => WithoutVersion(pod));

    /// <summary>Changes a pod in place: <paramref name="change"/> gets a copy of the current pod.</summary>
    public V1Pod UpdatePod(string ns, string name, Action<V1Pod> change) =>
        (V1Pod)store.Update(KubeResource.Pods, ns, name, current =>
        {
            current.Metadata.ResourceVersion = null;
            change((V1Pod)current);
            return current;
        });

    public V1Pod? GetPod(string ns, string name) => (V1Pod?)store.Get(KubeResource.Pods, ns, name);

    /// <summary>Deletes the pod and, as a kubelet would, kills every process that ran in it (detached ones too).</summary>
    public V1Pod DeletePod(string ns, string name)
    {
        var pod = (V1Pod)store.Delete(KubeResource.Pods, ns, name);
        KillPodProcesses($"{serverId}/{ns}/{name}");
        return pod;
    }

    /// <summary>Sets the phase as the kubelet would; Running also marks the containers started.</summary>
    public V1Pod SetPodPhase(string ns, string name, string phase) => UpdatePod(ns, name, pod =>
    {
        pod.Status ??= new V1PodStatus();
        pod.Status.Phase = phase;
        pod.Status.StartTime ??= DateTime.UtcNow;
    });

    /// <summary>
    /// Ready: phase Running, conditions Ready and ContainersReady True, every container running and ready.
    /// Not ready: conditions False and containers not ready (as after a failing readiness probe); phase unchanged.
    /// </summary>
    public V1Pod SetPodReady(string ns, string name, bool ready) => UpdatePod(ns, name, pod =>
    {
        var now = DateTime.UtcNow;
        pod.Status ??= new V1PodStatus();
        if (ready)
        {
            pod.Status.Phase = "Running";
        }
        pod.Status.StartTime ??= now;
        var flag = ready ? "True" : "False";
        pod.Status.Conditions =
        [
            new V1PodCondition { Type = "Initialized", Status = "True", LastTransitionTime = now },
            new V1PodCondition { Type = "Ready", Status = flag, LastTransitionTime = now },
            new V1PodCondition { Type = "ContainersReady", Status = flag, LastTransitionTime = now },
            new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = now },
        ];
        pod.Status.ContainerStatuses = pod.Spec.Containers.Select(c => new V1ContainerStatus
        {
            Name = c.Name,
            Image = c.Image,
            ImageID = "",
            Ready = ready,
            Started = pod.Status.Phase == "Running",
            RestartCount = 0,
            State = pod.Status.Phase == "Running"
                ? new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = now } }
                : new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } },
        }).ToList();
    });

    /// <summary>Creates the ConfigMap, or replaces it when one of that name exists.</summary>
    public V1ConfigMap UpsertConfigMap(V1ConfigMap configMap)
    {
        var ns = NamespaceOf(configMap.Metadata);
        return (V1ConfigMap)(store.Get(KubeResource.ConfigMaps, ns, configMap.Metadata.Name) is null
            ? store.Create(KubeResource.ConfigMaps, ns, configMap, resetPodStatus: false)
            : store.Update(KubeResource.ConfigMaps, ns, configMap.Metadata.Name, _ => WithoutVersion(configMap)));
    }

    public V1ConfigMap? GetConfigMap(string ns, string name) => (V1ConfigMap?)store.Get(KubeResource.ConfigMaps, ns, name);

    public V1ConfigMap DeleteConfigMap(string ns, string name) => (V1ConfigMap)store.Delete(KubeResource.ConfigMaps, ns, name);

    /// <summary>Drops the change history: a watch from an older resourceVersion gets an ERROR event with 410 Expired.</summary>
    public void Compact() => store.Compact();

    /// <summary>Waits until at least <paramref name="count"/> watches are registered, so later changes reach them.</summary>
    public Task WaitForWatchesAsync(int count, TimeSpan timeout) =>
        Infrastructure.Eventually.TrueAsync(() => store.WatchCount >= count, $"{count} watches are open", timeout);

    /// <summary>Writes a kubeconfig (http, insecure, dummy token, namespace <paramref name="ns"/>) and returns its path.</summary>
    public string WriteKubeconfig(string? path = null, string ns = "default")
    {
        path ??= Path.Combine(scratchRoot, $"kubeconfig-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Url}
                insecure-skip-tls-verify: true
            users:
            - name: fake
              user:
                token: fake-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: {ns}
            current-context: fake
            """);
        return path;
    }

    /// <summary>A KubernetesClient pointed at this server.</summary>
    public k8s.Kubernetes CreateClient() => new(new KubernetesClientConfiguration { Host = Url });

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Ends watches, kills running exec processes, stops Kestrel and removes scratch folders.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        await shutdown.CancelAsync();
        KillAllExecProcesses();
        KillPodProcesses($"{serverId}/");
        if (app is not null)
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await app.StopAsync(stopTimeout.Token);
            await app.DisposeAsync();
        }
        // shutdown is not disposed: a handler that outlived StopAsync may still link to its token.
        try
        {
            Directory.Delete(scratchRoot, recursive: true);
        }
        catch (IOException)
        {
            // A process that ignored the kill may still hold a file; the OS temp cleaner gets it later.
        }
    }

    private static IKubernetesObject<V1ObjectMeta> WithoutVersion(IKubernetesObject<V1ObjectMeta> obj)
    {
        var copy = (KubeResource.FromPlural(obj is V1Pod ? "pods" : "configmaps")!).Copy(obj);
        copy.Metadata.ResourceVersion = null;
        return copy;
    }

    private static string NamespaceOf(V1ObjectMeta? metadata) =>
        string.IsNullOrEmpty(metadata?.NamespaceProperty) ? "default" : metadata.NamespaceProperty;
}

/// <summary>One HTTP request as the fake saw it.</summary>
public sealed record FakeKubeRequest(string Method, string Path, string Query, bool Watch);
