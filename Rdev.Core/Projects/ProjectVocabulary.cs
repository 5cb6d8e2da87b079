namespace Rdev.Core.Projects;

/// <summary>Project status values (SPEC section 3): discovery writes them, the API reads them.</summary>
public static class ProjectStatus
{
    public const string Running = "running";
    public const string Starting = "starting";
    public const string Failed = "failed";
    public const string Unknown = "unknown";
    public const string Gone = "gone";

    /// <summary>Every status but <see cref="Gone"/>.</summary>
    public static readonly IReadOnlyList<string> Live = [Running, Starting, Failed, Unknown];
}

/// <summary>The values of <c>Rdev:Runtime</c> and of a project's <c>runtime</c>.</summary>
public static class ProjectRuntime
{
    public const string Local = "local";
    public const string Kubernetes = "kubernetes";
}

/// <summary>What a project's <c>allowed_commands</c> may name, and what a command's <c>kind</c> is.</summary>
public static class CommandKinds
{
    public const string Claude = "claude";
    public const string Git = "git";
    public const string Shell = "shell";

    public static readonly IReadOnlyList<string> All = [Claude, Git, Shell];

    /// <summary>What a project allows when its settings do not say (SPEC section 3).</summary>
    public static readonly IReadOnlyList<string> Default = [Claude, Git];
}

/// <summary>Postgres NOTIFY channels that cross from one service to the other.</summary>
public static class NotifyChannels
{
    /// <summary>Discovery to the API: the payload names the changed rows of <c>projects</c> (comma-separated), or <c>*</c> for all.</summary>
    public const string Projects = "rdev_projects";
}
