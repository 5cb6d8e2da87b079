using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// The API's own part of <c>Rdev:Kubernetes</c>: how long an exec may take. The namespace and the circuit are shared
/// with discovery (<see cref="KubernetesNamespace"/>, <see cref="KubernetesCircuitOptions"/>).
/// </summary>
public sealed class KubernetesRuntimeOptions
{
    public const string SectionName = "Rdev:Kubernetes";

    /// <summary>Limit for the WebSocket upgrade of one exec.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Limit for the wrapper to report the process group once the exec is connected.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Limit for a signal exec to finish.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan SignalTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
