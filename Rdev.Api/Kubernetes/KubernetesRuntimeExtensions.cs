using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rdev.Api.Execution;
using Rdev.Api.Kubernetes;

// The root namespace, as Extensions.cs: registration reads without a using.
namespace Rdev.Api;

public static class KubernetesRuntimeExtensions
{
    /// <summary>
    /// Registers the Kubernetes runtime: one <see cref="IKubernetes"/> (in-cluster config, else kubeconfig), the exec
    /// circuit and <see cref="KubernetesCommandRunner"/>, also as <see cref="ICommandRunner"/>. The client is created
    /// on first use.
    /// </summary>
    /// <remarks>
    /// Registrations use TryAdd: a <see cref="KubernetesClientConfiguration"/> (or <see cref="IKubernetes"/>)
    /// registered before this call wins, and one registered after it wins too (the last registration is the one
    /// resolved), which is how tests point the runtime at a fake API server.
    /// </remarks>
    public static IServiceCollection AddKubernetesRuntime(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<KubernetesRuntimeOptions>()
            .BindConfiguration(KubernetesRuntimeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(_ => KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildDefaultConfig());
        services.TryAddSingleton<IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesClientConfiguration>()));
        services.TryAddSingleton<KubernetesCircuit>();
        services.TryAddSingleton<KubernetesCommandRunner>();
        services.TryAddSingleton<ICommandRunner>(sp => sp.GetRequiredService<KubernetesCommandRunner>());
        return services;
    }
}
