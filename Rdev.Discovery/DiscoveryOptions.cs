using System.ComponentModel.DataAnnotations;

namespace Rdev.Discovery;

/// <summary>The <c>Rdev</c> configuration section as discovery reads it (SPEC section 2).</summary>
public sealed class DiscoveryOptions
{
    public const string SectionName = "Rdev";

    [AllowedValues(ProjectRuntime.Local, ProjectRuntime.Kubernetes, ErrorMessage = "Rdev:Runtime must be 'local' or 'kubernetes'.")]
    public string Runtime { get; set; } = ProjectRuntime.Local;

    public LocalSettings Local { get; set; } = new();

    /// <summary>How long a source may be down (a watch reconnecting) before <c>/ready</c> turns unhealthy.</summary>
    public TimeSpan ReadyGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the whole project set is written even when nothing changed, repairing rows edited by hand.</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    public KubernetesSettings Kubernetes { get; set; } = new();

    public sealed class LocalSettings
    {
        public string? ProjectsRoot { get; set; }

        /// <summary>Full rescan besides the file-system events, which can overflow or miss a change on network file systems.</summary>
        [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
        public TimeSpan RescanInterval { get; set; } = TimeSpan.FromSeconds(30);
    }

    public sealed class KubernetesSettings
    {
        public string ConfigMapName { get; set; } = "rdev-projects";

        /// <summary>Reconnect delay after the n-th consecutive failure: this times 2^min(n,5), plus up to this much jitter.</summary>
        [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>Server-side watch timeout; the watch then ends cleanly and discovery relists, as client-go does.</summary>
        [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
        public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(5);
    }
}
