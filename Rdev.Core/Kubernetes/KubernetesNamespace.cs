using k8s;

namespace Rdev.Core.Kubernetes;

/// <summary>
/// The namespace rdev works in: <c>Rdev:Kubernetes:Namespace</c>, else the client's (the pod's own in a cluster, the
/// current context's from a kubeconfig), else <c>default</c>. Discovery watches it; the API execs there when a project
/// row names no namespace.
/// </summary>
public sealed record KubernetesNamespace(string Name)
{
    public const string ConfigurationKey = "Rdev:Kubernetes:Namespace";
    public const string Default = "default";

    public static KubernetesNamespace Resolve(string? configured, KubernetesClientConfiguration client) =>
        new(configured is { Length: > 0 } ? configured : client.Namespace is { Length: > 0 } own ? own : Default);

    public override string ToString() => Name;
}
