using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rdev.Discovery.Kubernetes;
using Rdev.Discovery.Local;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery;

public static class Extensions
{
    public static void AddDiscoveryServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DiscoveryOptions>()
            .BindConfiguration(DiscoveryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DiscoveryOptions>, DiscoveryOptionsValidator>();

        // Discovery needs a few connections (its writes, the health check); bounded like the API's pool
        // (Rdev:Database:MaxPoolSize) so that the replicas' pools and this one fit PostgreSQL's max_connections.
        var maxPoolSize = Math.Clamp(builder.Configuration.GetValue("Rdev:Database:MaxPoolSize", 5), 2, 1000);
        builder.AddNpgsqlDataSource("rdevdb", settings => settings.DisableHealthChecks = true,
            dataSource => dataSource.ConnectionStringBuilder.MaxPoolSize = maxPoolSize);
        builder.Services.AddRdevProblemDetails();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DiscoveryMetrics>();
        builder.Services.AddSingleton<DiscoveryHealth>();
        builder.Services.AddSingleton<ProjectStore>();
        builder.Services.AddSingleton<ProjectPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectPublisher>());
        builder.Services.AddHealthChecks()
            .AddDatabaseCheck()
            .Add(new HealthCheckRegistration("discovery", sp => sp.GetRequiredService<DiscoveryHealth>(), failureStatus: null,
                tags: [Microsoft.Extensions.Hosting.Extensions.ReadyTag]));

        if (builder.Configuration["Rdev:Runtime"] == ProjectRuntime.Kubernetes)
        {
            builder.Services.AddKubernetesClient();
            builder.Services.AddSingleton<IKubernetesCircuitObserver, CircuitHealth>();
            // Lists and watches retry with backoff anyway: open once half of at least four calls failed.
            builder.Services.AddKubernetesCircuit(DiscoveryMetrics.MeterName, defaults =>
            {
                defaults.CircuitFailureRatio = 0.5;
                defaults.CircuitFailureThreshold = 4;
            });
            builder.Services.AddHostedService<KubernetesDiscovery>();
        }
        else
        {
            builder.Services.AddHostedService<LocalDiscovery>();
        }
    }
}
