using System.ComponentModel.DataAnnotations;

namespace Rdev.Core.Kubernetes;

/// <summary>
/// The circuit part of <c>Rdev:Kubernetes</c>. Each service registers its own defaults
/// (<see cref="KubernetesRegistration.AddKubernetesCircuit"/>); configuration overrides them.
/// </summary>
public sealed class KubernetesCircuitOptions
{
    public const string SectionName = "Rdev:Kubernetes";

    /// <summary>Calls within <see cref="CircuitSamplingDuration"/> before the circuit may open (Polly's minimum throughput).</summary>
    [Range(2, 1000)]
    public int CircuitFailureThreshold { get; set; } = 5;

    /// <summary>The share of those calls that must be outages for the circuit to open: 1 means all of them, with no success in between.</summary>
    [Range(0.01, 1.0)]
    public double CircuitFailureRatio { get; set; } = 1.0;

    [Range(typeof(TimeSpan), "00:00:00.5", "1.00:00:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails fast before it lets one trial call through (Polly needs at least half a second).</summary>
    [Range(typeof(TimeSpan), "00:00:00.5", "1.00:00:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
