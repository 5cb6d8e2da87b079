using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Rdev.Discovery.Kubernetes;

public static class KubernetesClientRegistration
{
    /// <summary>
    /// One <see cref="IKubernetes"/> for the process: in-cluster configuration (service account) inside a pod,
    /// else the kubeconfig (<c>KUBECONFIG</c> or ~/.kube/config). A <see cref="KubernetesClientConfiguration"/>
    /// registered before this call (tests point it at a fake API server) is used instead.
    /// </summary>
    public static IServiceCollection AddKubernetesClient(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile());
        services.TryAddSingleton<IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesClientConfiguration>()));
        return services;
    }
}
