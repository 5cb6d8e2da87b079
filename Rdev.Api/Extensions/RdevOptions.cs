using System.ComponentModel.DataAnnotations;

namespace Rdev.Api;

/// <summary>The <c>Rdev</c> configuration section (SPEC section 2).</summary>
public sealed class RdevOptions
{
    public const string SectionName = "Rdev";

    [AllowedValues(ProjectRuntime.Local, ProjectRuntime.Kubernetes, ErrorMessage = "Rdev:Runtime must be 'local' or 'kubernetes'.")]
    public string Runtime { get; set; } = ProjectRuntime.Local;

    public string? BootstrapAdminKey { get; set; }

    public string[] TrustedProxies { get; set; } = [];
}
