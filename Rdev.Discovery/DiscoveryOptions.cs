using System.ComponentModel.DataAnnotations;
using Rdev.Discovery.Projects;

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

        /// <summary>
        /// The ceiling of every local project's policy. A workspace's <c>.rdev.yaml</c> can be written by any command
        /// run in it, so it may only narrow this (SPEC section 5).
        /// </summary>
        public PolicySettings Policy { get; set; } = new();

        /// <summary>Per-project pins by project name; a pin's fields replace the ceiling's for that project.</summary>
        public Dictionary<string, PolicySettings> Projects { get; set; } = [];

        /// <summary>The operator's policy for <paramref name="project"/>: its pin where one is set, else the ceiling.</summary>
        public (IReadOnlyList<string> AllowedCommands, int MaxConcurrentCommands) PolicyFor(string project)
        {
            var pin = Projects.GetValueOrDefault(project);
            return (pin?.AllowedCommands ?? Policy.AllowedCommands ?? ProjectSettings.DefaultAllowedCommands,
                pin?.MaxConcurrentCommands ?? Policy.MaxConcurrentCommands ?? ProjectSettings.DefaultMaxConcurrentCommands);
        }
    }

    /// <summary>
    /// <c>allowed_commands</c> and <c>max_concurrent_commands</c> set by the operator. Null means "not set": a pin then
    /// takes the ceiling's value and the ceiling the SPEC default. (Defaults are not put in the list itself because
    /// the configuration binder appends to a list it finds instead of replacing it.)
    /// </summary>
    public sealed class PolicySettings : IValidatableObject
    {
        public string[]? AllowedCommands { get; set; }

        [Range(1, ProjectSettings.MaxConcurrentCommandsLimit)]
        public int? MaxConcurrentCommands { get; set; }

        public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
            (AllowedCommands ?? []).Where(c => !CommandKinds.All.Contains(c)).Select(c => new ValidationResult(
                $"AllowedCommands: '{c}' is not one of {string.Join(", ", CommandKinds.All)}.", [nameof(AllowedCommands)]));
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
