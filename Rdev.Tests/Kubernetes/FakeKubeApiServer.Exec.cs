using System.Collections.Concurrent;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// Pod exec: <c>GET .../pods/{name}/exec?command=..&amp;container=..&amp;stdin=..</c> upgraded to a WebSocket
/// speaking v5.channel.k8s.io or v4.channel.k8s.io, running a real local process.
/// </summary>
/// <remarks>
/// Where the process runs: the folder given to <see cref="SetPodWorkspace"/> for that pod; otherwise the pod's
/// <see cref="WorkspaceAnnotation"/> when it names an existing local folder (tests may point it at a temp
/// folder); otherwise a scratch folder per pod under the server's temp root, removed on dispose.
/// The argv runs exactly as given (no shell), with the pod's literal container env vars and HOSTNAME=pod name.
/// tty=true is recorded but not emulated except that stderr is merged into stdout, as with a real tty.
/// </remarks>
public sealed partial class FakeKubeApiServer
{
    public const string V5ChannelProtocol = "v5.channel.k8s.io";
    public const string V4ChannelProtocol = "v4.channel.k8s.io";

    private static readonly string[] ExecProtocolsByPreference = [V5ChannelProtocol, V4ChannelProtocol];
    private readonly ConcurrentDictionary<(string Namespace, string Pod), string> workspaces = new();
    private readonly ConcurrentQueue<FakeExecCall> execCalls = new();
    private readonly ConcurrentDictionary<ExecSession, byte> openExecs = new();

    /// <summary>Every exec that reached the upgrade, in order.</summary>
    public IReadOnlyList<FakeExecCall> ExecCalls => [.. execCalls];

    /// <summary>Makes exec in this pod run in <paramref name="localDirectory"/>.</summary>
    public void SetPodWorkspace(string ns, string pod, string localDirectory)
    {
        Directory.CreateDirectory(localDirectory);
        workspaces[(ns, pod)] = Path.GetFullPath(localDirectory);
    }

    /// <summary>The local folder an exec in this pod runs in (see the class remarks for the order of choice).</summary>
    public string GetPodWorkspace(string ns, string pod)
    {
        if (workspaces.TryGetValue((ns, pod), out var mapped))
        {
            return mapped;
        }
        string? annotated = null;
        if (GetPod(ns, pod)?.Metadata.Annotations?.TryGetValue(WorkspaceAnnotation, out annotated) == true
            && Path.IsPathRooted(annotated) && Directory.Exists(annotated))
        {
            return annotated;
        }
        return Directory.CreateDirectory(Path.Combine(scratchRoot, "pods", ns, pod)).FullName;
    }

    /// <summary>Drops every open exec connection mid-stream (no status, no close frame).</summary>
    public void AbortAllExecs()
    {
        foreach (var session in openExecs.Keys)
        {
            session.Abort();
        }
    }

    private const string PodMarker = "RDEV_FAKE_POD";

    /// <summary>Kills every process on this host whose pod marker starts with <paramref name="prefix"/>.</summary>
    private static void KillPodProcesses(string prefix)
    {
        var marker = $"{PodMarker}={prefix}";
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Any(v => v.StartsWith(marker, StringComparison.Ordinal)))
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
    }

    private void KillAllExecProcesses()
    {
        foreach (var session in openExecs.Keys)
        {
            session.Kill();
        }
    }

    private async Task ExecAsync(HttpContext context, string ns, string name)
    {
        if (context.Request.Method is not ("GET" or "POST"))
        {
            await WriteStatusAsync(context, KubeStatus.MethodNotAllowed(context.Request.Method));
            return;
        }
        var pod = GetPod(ns, name) ?? throw new KubeStatusException(KubeStatus.NotFound("pods", name));
        var query = context.Request.Query;
        var command = query["command"].Where(c => c is not null).Select(c => c!).ToArray();
        bool stdin = IsTrue(query["stdin"]), stdout = IsTrue(query["stdout"]), stderr = IsTrue(query["stderr"]), tty = IsTrue(query["tty"]);
        if (command.Length == 0)
        {
            throw new KubeStatusException(KubeStatus.BadRequest("you must specify at least 1 command"));
        }
        if (!stdin && !stdout && !stderr)
        {
            throw new KubeStatusException(KubeStatus.BadRequest("you must specify at least one of stdin, stdout, stderr"));
        }
        var container = ResolveContainer(pod, query["container"]);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            throw new KubeStatusException(KubeStatus.BadRequest("Upgrade request required"));
        }
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = ExecProtocolsByPreference.FirstOrDefault(offered.Contains);
        if (offered.Count > 0 && protocol is null)
        {
            throw new KubeStatusException(KubeStatus.BadRequest(
                $"unable to upgrade connection: requested protocol(s) are not supported: [{string.Join(" ", offered)}]; supports [{string.Join(" ", ExecProtocolsByPreference)}]"));
        }

        var call = new FakeExecCall(ns, name, container.Name, command, stdin, stdout, stderr, tty, protocol ?? "", GetPodWorkspace(ns, name));
        execCalls.Enqueue(call);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = protocol });
        var session = new ExecSession(socket, context, call, protocol == V5ChannelProtocol, KillExecProcessOnDisconnect);
        openExecs[session] = 0;
        try
        {
            var environment = (container.Env ?? []).Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
            environment["HOSTNAME"] = name;
            // Marks every process of this pod, also those that detach from the exec, so that deleting the pod ends them.
            environment[PodMarker] = $"{serverId}/{ns}/{name}";
            await session.RunAsync(environment, shutdown.Token);
        }
        finally
        {
            openExecs.TryRemove(session, out _);
        }
    }

    private static V1Container ResolveContainer(V1Pod pod, string? requested)
    {
        var containers = pod.Spec.Containers ?? [];
        if (string.IsNullOrEmpty(requested))
        {
            return containers.Count == 1
                ? containers[0]
                : throw new KubeStatusException(KubeStatus.BadRequest(
                    $"a container name must be specified for pod {pod.Metadata.Name}, choose one of: [{string.Join(" ", containers.Select(c => c.Name))}]"));
        }
        return containers.FirstOrDefault(c => c.Name == requested)
            ?? throw new KubeStatusException(KubeStatus.BadRequest($"container {requested} is not valid for pod {pod.Metadata.Name}"));
    }
}

/// <summary>One exec as the fake received it; <see cref="ExitCode"/> completes when the process has ended.</summary>
public sealed record FakeExecCall(
    string Namespace,
    string Pod,
    string Container,
    IReadOnlyList<string> Command,
    bool Stdin,
    bool Stdout,
    bool Stderr,
    bool Tty,
    string Protocol,
    string WorkingDirectory)
{
    internal TaskCompletionSource<int> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal TaskCompletionSource Began { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the process runs (or could not be started), so a test can act on a live exec.</summary>
    public Task Started => Began.Task;

    /// <summary>The process exit code; -1 when it could not be started.</summary>
    public Task<int> ExitCode => Exit.Task;
}
