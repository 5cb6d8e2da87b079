using Microsoft.Extensions.Options;

namespace Rdev.Discovery;

/// <summary>
/// Finds projects and publishes them to Postgres. This skeleton only reports which runtime it would watch;
/// the Kubernetes watch and the local folder watch come with project discovery.
/// </summary>
public sealed class DiscoveryWorker(IOptions<DiscoveryOptions> options, ILogger<DiscoveryWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Runtime == DiscoveryOptions.KubernetesRuntime)
        {
            logger.LogInformation("Discovery runtime kubernetes, namespace {Namespace}, ConfigMap {ConfigMap}",
                settings.Kubernetes.Namespace ?? "(in-cluster or default)", settings.Kubernetes.ConfigMapName);
        }
        else
        {
            logger.LogInformation("Discovery runtime local, projects root {ProjectsRoot}", settings.Local.ProjectsRoot ?? "(not set)");
        }

        return Task.CompletedTask;
    }
}
