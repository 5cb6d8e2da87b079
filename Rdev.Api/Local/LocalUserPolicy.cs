using Microsoft.Extensions.Options;

namespace Rdev.Api.Local;

/// <summary>
/// Which OS user a local command runs as. Only a root API chooses: it never hands root to a caller when it can avoid
/// it. <c>Rdev:Local:RunAsUser</c> when set; otherwise the owner of the project folder (the user who may already
/// write it, so git sees a repository it owns); root only when the folder belongs to root as well, since rdev cannot
/// pick a user that may write the operator's folders. A non-root API runs commands as itself.
/// </summary>
public sealed partial class LocalUserPolicy(IOptions<LocalRuntimeOptions> options, ILogger<LocalUserPolicy> logger)
{
    private readonly Lazy<OsUser?> configured = new(() => Resolve(options.Value.RunAsUser));
    private int warned;

    /// <summary>The user to switch to for a command in <paramref name="workspace"/>, or null to run as the API.</summary>
    public OsUser? For(string workspace)
    {
        if (!NativeUsers.IsRoot)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(options.Value.RunAsUser))
        {
            var runAs = configured.Value
                ?? throw new Execution.RuntimeUnavailableException("Rdev:Local:RunAsUser names no user of this system.", Execution.RuntimeBlame.Runtime);
            return runAs.Uid == 0 ? null : runAs;
        }

        var owner = FolderOwner(workspace);
        if (owner is null && Interlocked.Exchange(ref warned, 1) == 0)
        {
            LogRunningAsRoot(logger, workspace);
        }

        return owner;
    }

    private static OsUser? Resolve(string? runAs) => runAs switch
    {
        null or "" => null,
        _ when uint.TryParse(runAs, out var uid) => NativeUsers.ById(uid) ?? new OsUser(uid, uid, null, null),
        _ => NativeUsers.ByName(runAs),
    };

    private static OsUser? FolderOwner(string workspace) => NativeUsers.Owner(workspace) switch
    {
        null or (0, _) => null,
        var (uid, gid) => NativeUsers.ById(uid) ?? new OsUser(uid, gid, null, null),
    };

    [LoggerMessage(LogLevel.Warning, "Local commands run as root: the API runs as root, Rdev:Local:RunAsUser is not set and " +
        "the project folder {Workspace} belongs to root. Set Rdev:Local:RunAsUser to an unprivileged user that owns the projects.")]
    private static partial void LogRunningAsRoot(ILogger logger, string workspace);
}
