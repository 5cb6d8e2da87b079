using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Rdev.Api.ClaudeConfig;

/// <summary>The problem answers of the Claude Code configuration API, each with its stable <c>code</c>.</summary>
internal static class ConfigProblems
{
    public static ProblemHttpResult ProjectNotFound(string name) => Problems.ProjectNotFound(name);

    public static ProblemHttpResult TypeNotFound() =>
        Problem(StatusCodes.Status404NotFound, "Configuration type not found",
            "The configuration type must be one of: commands, skills, agents.", "NOT_FOUND");

    public static ProblemHttpResult ItemNotFound(ConfigType type, string item) =>
        Problem(StatusCodes.Status404NotFound, "Item not found", $"The project has no {type.Name} item '{item}'.", "NOT_FOUND");

    public static ProblemHttpResult ProjectUnavailable(string name, string detail) =>
        Problem(StatusCodes.Status409Conflict, "Project unavailable", $"Project '{name}': {detail}", "PROJECT_UNAVAILABLE");

    public static ProblemHttpResult KubernetesUnavailable(string detail) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "Kubernetes unavailable", detail + " Retry later; an item is never left half-written.",
            "KUBERNETES_UNAVAILABLE");

    public static ProblemHttpResult AlreadyExists(ConfigType type, string item) =>
        Problem(StatusCodes.Status409Conflict, "Item exists",
            $"The project already has a {type.Name} item '{item}'; change it with PUT and If-Match.", "CONFLICT");

    public static ProblemHttpResult TooLarge(ConfigType type, string item) =>
        Problem(StatusCodes.Status409Conflict, "Item too large",
            $"The {type.Name} item '{item}' is larger than {ItemContent.MaxBytes} bytes, the most this API serves; edit it in the workspace.",
            "CONFLICT");

    public static ProblemHttpResult Conflict(string detail) =>
        Problem(StatusCodes.Status409Conflict, "Conflict", detail, "CONFLICT");

    public static ProblemHttpResult PreconditionFailed(ConfigType type, string item) =>
        Problem(StatusCodes.Status412PreconditionFailed, "Precondition failed",
            $"The {type.Name} item '{item}' changed since the ETag in If-Match was read; GET it again and reapply your change.",
            "PRECONDITION_FAILED");

    public static ProblemHttpResult PreconditionRequired() =>
        Problem(StatusCodes.Status428PreconditionRequired, "Precondition required",
            "Replacing an item needs If-Match with the ETag from GET (or If-Match: * to overwrite whatever is there).",
            "PRECONDITION_REQUIRED");

    /// <summary>The answer for an expected failure of the workspace or the item lock; null for anything else.</summary>
    public static ProblemHttpResult? From(Exception exception, string project) => exception switch
    {
        WorkspaceUnavailableException { ProjectProblem: true } e => ProjectUnavailable(project, e.Message),
        WorkspaceUnavailableException e => KubernetesUnavailable(e.Message),
        UnsafeWorkspacePathException e => Conflict(e.Message),
        PostgresException { SqlState: ConfigEditLock.LockNotAvailable } =>
            Conflict("Another change to this item is in progress and did not finish in time; retry."),
        _ => null,
    };

    private static ProblemHttpResult Problem(int status, string title, string detail, string code) =>
        Problems.Result(status, title, detail, code);
}
