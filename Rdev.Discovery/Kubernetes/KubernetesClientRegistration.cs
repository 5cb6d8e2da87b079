using k8s;

namespace Rdev.Discovery.Kubernetes;

public static class KubernetesClientRegistration
{
    /// <summary>
    /// One <see cref="IKubernetes"/> for the process: in-cluster configuration (service account) inside a pod,
    /// else the kubeconfig (<c>KUBECONFIG</c> or ~/.kube/config).
    /// </summary>
    public static IServiceCollection AddKubernetesClient(this IServiceCollection services)
    {
        services.AddSingleton(_ => KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile());
        services.AddSingleton<IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesClientConfiguration>()));
        return services;
    }
}
