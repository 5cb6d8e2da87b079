using System.ComponentModel.DataAnnotations;

namespace Rdev.Discovery;

/// <summary>The <c>Rdev</c> configuration section as discovery reads it (SPEC section 2).</summary>
public sealed class DiscoveryOptions
{
    public const string SectionName = "Rdev";
    public const string LocalRuntime = "local";
    public const string KubernetesRuntime = "kubernetes";

    [RegularExpression("^(local|kubernetes)$", ErrorMessage = "Rdev:Runtime must be 'local' or 'kubernetes'.")]
    public string Runtime { get; set; } = LocalRuntime;

    public LocalSettings Local { get; set; } = new();

    public KubernetesSettings Kubernetes { get; set; } = new();

    public sealed class LocalSettings
    {
        public string? ProjectsRoot { get; set; }
    }

    public sealed class KubernetesSettings
    {
        public string? Namespace { get; set; }

        public string ConfigMapName { get; set; } = "rdev-projects";
    }
}
