using Microsoft.Extensions.DependencyInjection.Extensions;
using Rdev.Api.Commands;
using Rdev.Api.Execution;
using Rdev.Api.Kubernetes;

// The root namespace, as Extensions.cs: registration reads without a using.
namespace Rdev.Api;

public static class KubernetesRuntimeExtensions
{
    /// <summary>
    /// Registers the Kubernetes runtime: the shared client (<see cref="KubernetesRegistration.AddKubernetesClient"/>,
    /// whose TryAdd lets tests point it at a fake API server), the exec circuit, and the adapters behind the runtime ports (<see cref="KubernetesCommandRunner"/>,
    /// <see cref="KubernetesWorkspaceFiles"/>, <see cref="KubernetesRuntimeStatus"/>). The client is created on first use.
    /// </summary>
    public static IServiceCollection AddKubernetesRuntime(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<KubernetesRuntimeOptions>()
            .BindConfiguration(KubernetesRuntimeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddKubernetesClient();
        // An exec opens the circuit only after CircuitFailureThreshold failures with no success in between.
        services.TryAddSingleton<IKubernetesOutageClassifier, ExecOutages>();
        services.AddKubernetesCircuit(CommandMetrics.MeterName);
        services.TryAddSingleton<KubernetesCommandRunner>();
        services.TryAddSingleton<ICommandRunner>(sp => sp.GetRequiredService<KubernetesCommandRunner>());
        services.TryAddSingleton<IWorkspaceFiles, KubernetesWorkspaceFiles>();
        services.TryAddSingleton<IRuntimeStatus, KubernetesRuntimeStatus>();
        return services;
    }
}
