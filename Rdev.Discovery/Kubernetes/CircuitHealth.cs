using Rdev.Discovery.Projects;

namespace Rdev.Discovery.Kubernetes;

/// <summary>The <see cref="KubernetesCircuit"/> as a source of discovery's <c>/ready</c>: open means down.</summary>
public sealed class CircuitHealth : IKubernetesCircuitObserver
{
    public const string HealthSource = "kubernetes-api";

    private readonly DiscoveryHealth health;

    public CircuitHealth(DiscoveryHealth health)
    {
        this.health = health;
        Closed();
    }

    public void Opened(TimeSpan breakDuration) =>
        health.Report(HealthSource, live: false, $"Circuit open: the Kubernetes API failed repeatedly; next trial in {breakDuration}.");

    public void Closed() => health.Report(HealthSource, live: true, "Circuit closed.");
}
