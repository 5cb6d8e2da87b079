using Microsoft.AspNetCore.Http.HttpResults;

namespace Rdev.Api.Commands;

/// <summary>The problem answers of the commands API, each with its stable <c>code</c>.</summary>
internal static class CommandProblems
{
    public static ProblemHttpResult ProjectNotFound(string name) => Problems.ProjectNotFound(name);

    public static ProblemHttpResult CommandNotFound(Guid id) =>
        Problem(StatusCodes.Status404NotFound, "Command not found", $"There is no command '{id}' for this key.", "NOT_FOUND");

    public static ProblemHttpResult KindNotAllowed(string name, string kind) =>
        Problem(StatusCodes.Status403Forbidden, "Command kind not allowed",
            $"Project '{name}' does not allow {kind} commands (see its allowed_commands).", "COMMAND_NOT_ALLOWED");

    public static ProblemHttpResult ShellRequired(string name, string reason, bool keyHasShell) =>
        Problem(StatusCodes.Status403Forbidden, "Forbidden",
            $"{reason} lets Claude run commands or change files without approval, which amounts to a shell: it needs " +
            $"the commands:shell scope and a project that allows shell ({(keyHasShell
                ? $"project '{name}' does not allow shell"
                : "this API key lacks the 'commands:shell' scope")}).",
            "FORBIDDEN");

    public static ProblemHttpResult ProjectUnavailable(string name, string status) =>
        Problem(StatusCodes.Status409Conflict, "Project unavailable",
            $"Project '{name}' cannot run commands now (status '{status}').", "PROJECT_UNAVAILABLE");

    public static ProblemHttpResult LimitReached(string name, int limit) =>
        Problem(StatusCodes.Status429TooManyRequests, "Command limit reached",
            $"Project '{name}' already runs {limit} commands; retry when one finishes.", "COMMAND_LIMIT_REACHED");

    public static ProblemHttpResult KubernetesUnavailable() =>
        Problem(StatusCodes.Status503ServiceUnavailable, "Kubernetes unavailable",
            "The Kubernetes API is failing; rdev stops calling it for a while. Retry later.", "KUBERNETES_UNAVAILABLE");

    public static ProblemHttpResult Conflict(string detail) =>
        Problem(StatusCodes.Status409Conflict, "Conflict", detail, "CONFLICT");

    public static ProblemHttpResult Validation(string field, string message) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: "Validation failed",
            detail: message,
            extensions: new Dictionary<string, object?>
            {
                ["code"] = "VALIDATION_FAILED",
                ["errors"] = new Dictionary<string, string[]> { [field] = [message] },
            });

    private static ProblemHttpResult Problem(int status, string title, string detail, string code) =>
        Problems.Result(status, title, detail, code);
}
