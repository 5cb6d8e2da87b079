using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace Rdev.Core.Kubernetes;

public static class KubernetesRegistration
{
    /// <summary>
    /// One <see cref="IKubernetes"/> for the process, created on first use: in-cluster configuration (service account)
    /// inside a pod, else the kubeconfig that <see cref="KubernetesClientConfiguration.BuildDefaultConfig"/> finds
    /// (<c>KUBECONFIG</c>, else ~/.kube/config); and the <see cref="KubernetesNamespace"/>.
    /// </summary>
    /// <remarks>
    /// Registrations use TryAdd: a <see cref="KubernetesClientConfiguration"/> (or <see cref="IKubernetes"/>) registered
    /// before this call wins, and one registered after it wins too (the last registration is the one resolved), which
    /// is how tests point a service at a fake API server.
    /// </remarks>
    public static IServiceCollection AddKubernetesClient(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildDefaultConfig());
        services.TryAddSingleton<IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesClientConfiguration>()));
        services.TryAddSingleton(sp => KubernetesNamespace.Resolve(
            sp.GetRequiredService<IConfiguration>()[KubernetesNamespace.ConfigurationKey], sp.GetRequiredService<KubernetesClientConfiguration>()));
        return services;
    }

    /// <summary>
    /// The <see cref="KubernetesCircuit"/>, its gauge on meter <paramref name="meterName"/>, and its options from
    /// <c>Rdev:Kubernetes</c> over the service's <paramref name="defaults"/>. An
    /// <see cref="IKubernetesOutageClassifier"/> registered before this call replaces <see cref="KubernetesOutages"/>.
    /// </summary>
    public static IServiceCollection AddKubernetesCircuit(
        this IServiceCollection services, string meterName, Action<KubernetesCircuitOptions>? defaults = null)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        var options = services.AddOptions<KubernetesCircuitOptions>();
        if (defaults is not null)
        {
            // Configure actions run in registration order: the bound configuration comes after the defaults.
            options.Configure(defaults);
        }
        options.BindConfiguration(KubernetesCircuitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IKubernetesOutageClassifier, KubernetesOutages>();
        services.TryAddSingleton(sp => new KubernetesCircuit(
            meterName,
            sp.GetRequiredService<IOptions<KubernetesCircuitOptions>>(),
            sp.GetRequiredService<IKubernetesOutageClassifier>(),
            sp.GetServices<IKubernetesCircuitObserver>(),
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<KubernetesCircuit>>()));
        return services;
    }
}
