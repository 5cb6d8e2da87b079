using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Kubernetes;

/// <summary>The API's side of <c>Rdev:Kubernetes</c>: where to exec and how hard to try.</summary>
public sealed class KubernetesRuntimeOptions
{
    public const string SectionName = "Rdev:Kubernetes";

    /// <summary>Namespace for a <see cref="Execution.RunTarget"/> that names none; default: the client's (in-cluster) namespace, else <c>default</c>.</summary>
    public string? Namespace { get; set; }

    /// <summary>Failed exec requests, with no success among them within <see cref="CircuitSamplingDuration"/>, that open the circuit.</summary>
    [Range(2, 1000)]
    public int CircuitFailureThreshold { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00.5", "1.00:00:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails fast before it lets one trial exec through.</summary>
    [Range(typeof(TimeSpan), "00:00:00.5", "1.00:00:00", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true)]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

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
