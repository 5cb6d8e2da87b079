using Rdev.Discovery.Kubernetes;

namespace Rdev.Discovery;

public static class Extensions
{
    public static void AddDiscoveryServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DiscoveryOptions>()
            .BindConfiguration(DiscoveryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.AddNpgsqlDataSource("rdevdb", settings => settings.DisableHealthChecks = true);
        builder.Services.AddHealthChecks().AddDatabaseCheck();
        builder.Services.AddRdevProblemDetails();

        if (builder.Configuration["Rdev:Runtime"] == DiscoveryOptions.KubernetesRuntime)
        {
            builder.Services.AddKubernetesClient();
        }

        builder.Services.AddHostedService<DiscoveryWorker>();
    }
}
