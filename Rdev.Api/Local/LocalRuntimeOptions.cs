using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Local;

/// <summary><c>Rdev:Local</c>: how the local runtime runs commands (the projects root is discovery's setting).</summary>
public sealed class LocalRuntimeOptions
{
    public const string SectionName = "Rdev:Local";

    /// <summary>
    /// When the API runs as root: the user (name or numeric uid) every local command runs as. Unset: the owner of the
    /// project folder, unless that is root too. Ignored when the API is not root (it cannot change user).
    /// </summary>
    [RegularExpression("^([a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10})$", ErrorMessage = "Rdev:Local:RunAsUser must be a user name or a numeric uid.")]
    public string? RunAsUser { get; set; }

    /// <summary>
    /// Where the run folders of commands live (output spool, exit code, input; SPEC section 6). Outside every
    /// workspace. Unset: <c>rdev-runs-&lt;uid&gt;</c> under the API's temp folder (one per OS user, so APIs of different
    /// users never share one). With <see cref="RunAsUser"/> on a root API, each
    /// folder is handed to the command's user.
    /// </summary>
    public string? RunsRoot { get; set; }

    public string ResolvedRunsRoot => string.IsNullOrEmpty(RunsRoot)
        ? Path.Combine(Path.GetTempPath(), string.Create(System.Globalization.CultureInfo.InvariantCulture, $"rdev-runs-{NativeUsers.EffectiveUserId}"))
        : Path.GetFullPath(RunsRoot);
}
