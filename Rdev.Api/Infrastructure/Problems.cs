using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rdev.Api.Execution;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// Every problem answer rdev gives, each with its stable <see cref="ProblemCodes">code</see>: one place for the
/// wording, so the same situation reads the same from every endpoint. Expected exceptions (an unreachable runtime, an
/// unsafe path, a busy item) reach them through <see cref="ExpectedExceptionHandler"/>.
/// </summary>
public static class Problems
{
    /// <summary>A problem answer from an endpoint, with rdev's stable <c>code</c>.</summary>
    public static ProblemHttpResult Result(int status, string title, string detail, string code) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>A 400 for one field (a query parameter, a header, a route value, the body).</summary>
    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// Every 400: title <see cref="ProblemCodes.ValidationTitle"/>, code <c>VALIDATION_FAILED</c> and <c>errors</c>
    /// keyed by snake_case field path, whether a validator, a handler or the binding of the request found the fault.
    /// </summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors,
            detail: errors.Count == 1 && errors.First().Value is [var only] ? only : "Several fields are not valid; see errors.",
            title: ProblemCodes.ValidationTitle,
            extensions: new Dictionary<string, object?> { ["code"] = ProblemCodes.ValidationFailed });

    public static ProblemHttpResult Forbidden(string detail) =>
        Result(StatusCodes.Status403Forbidden, "Forbidden", detail, ProblemCodes.Forbidden);

    public static ProblemHttpResult Conflict(string detail) =>
        Result(StatusCodes.Status409Conflict, "Conflict", detail, ProblemCodes.Conflict);

    /// <summary>The one answer for a project that does not exist and one this key may not use (so it learns nothing).</summary>
    public static ProblemHttpResult ProjectNotFound(string name) =>
        Result(StatusCodes.Status404NotFound, "Project not found", $"There is no project '{name}' that this key may use.", ProblemCodes.NotFound);

    public static ProblemHttpResult CommandNotFound(Guid id) =>
        Result(StatusCodes.Status404NotFound, "Command not found", $"There is no command '{id}' for this key.", ProblemCodes.NotFound);

    public static ProblemHttpResult ApprovalNotFound(Guid id) =>
        Result(StatusCodes.Status404NotFound, "Approval not found", $"The command has no approval '{id}'.", ProblemCodes.NotFound);

    public static ProblemHttpResult KeyNotFound() =>
        Result(StatusCodes.Status404NotFound, "Not Found", "There is no key with this id.", ProblemCodes.NotFound);

    public static ProblemHttpResult ConfigTypeNotFound() =>
        Result(StatusCodes.Status404NotFound, "Configuration type not found",
            "The configuration type must be one of: commands, skills, agents.", ProblemCodes.NotFound);

    public static ProblemHttpResult ItemNotFound(string type, string item) =>
        Result(StatusCodes.Status404NotFound, "Item not found", $"The project has no {type} item '{item}'.", ProblemCodes.NotFound);

    /// <summary>The project exists but cannot be used now; <paramref name="reason"/> is a sentence.</summary>
    public static ProblemHttpResult ProjectUnavailable(string name, string reason) =>
        Result(StatusCodes.Status409Conflict, "Project unavailable", $"Project '{name}' is unavailable now. {reason}", ProblemCodes.ProjectUnavailable);

    /// <summary>The project's status says it cannot run anything (starting, failed, unknown).</summary>
    public static ProblemHttpResult ProjectNotRunnable(string name, string status) =>
        ProjectUnavailable(name, $"Its status is '{status}'.");

    /// <summary>409 when the project is to blame, 503 when the runtime is; the exception's message is safe to show.</summary>
    public static ProblemHttpResult RuntimeUnavailable(RuntimeUnavailableException exception, string? project) =>
        exception.Blame == RuntimeBlame.Project
            ? ProjectUnavailable(project ?? "", exception.Message)
            : Result(StatusCodes.Status503ServiceUnavailable, "Kubernetes unavailable", $"{exception.Message} Retry later.",
                ProblemCodes.KubernetesUnavailable);

    public static ProblemHttpResult KindNotAllowed(string name, string kind) =>
        Result(StatusCodes.Status403Forbidden, "Command kind not allowed",
            $"Project '{name}' does not allow {kind} commands (see its allowed_commands).", ProblemCodes.CommandNotAllowed);

    public static ProblemHttpResult ShellRequired(string name, string reason, bool keyHasShell) =>
        Forbidden($"{reason} lets Claude run commands or change files without approval, which amounts to a shell: it needs " +
            $"the commands:shell scope and a project that allows shell ({(keyHasShell
                ? $"project '{name}' does not allow shell"
                : "this API key lacks the 'commands:shell' scope")}).");

    public static ProblemHttpResult CommandLimitReached(string name, int limit) =>
        Result(StatusCodes.Status429TooManyRequests, "Command limit reached",
            $"Project '{name}' already runs {limit} commands; retry when one finishes.", ProblemCodes.CommandLimitReached);

    public static ProblemHttpResult ItemExists(string type, string item) =>
        Result(StatusCodes.Status409Conflict, "Item exists",
            $"The project already has a {type} item '{item}'; change it with PUT and If-Match.", ProblemCodes.Conflict);

    public static ProblemHttpResult ItemTooLarge(string type, string item, int maxBytes) =>
        Result(StatusCodes.Status409Conflict, "Item too large",
            $"The {type} item '{item}' is larger than {maxBytes} bytes, the most this API serves; edit it in the workspace.",
            ProblemCodes.Conflict);

    public static ProblemHttpResult PreconditionFailed(string type, string item) =>
        Result(StatusCodes.Status412PreconditionFailed, "Precondition failed",
            $"The {type} item '{item}' changed since the ETag in If-Match was read; GET it again and reapply your change.",
            ProblemCodes.PreconditionFailed);

    public static ProblemHttpResult PreconditionRequired() =>
        Result(StatusCodes.Status428PreconditionRequired, "Precondition required",
            "Replacing an item needs If-Match with the ETag from GET (or If-Match: * to overwrite whatever is there).",
            ProblemCodes.PreconditionRequired);

    /// <summary>
    /// Writes an RFC 9457 problem from outside an endpoint (authentication, authorization, rate limiting). <c>code</c>
    /// and <c>trace_id</c> are set here as well as by the problem details service, so they are present even when the
    /// client's Accept header makes that service decline and the result writes the JSON itself.
    /// </summary>
    public static Task WriteProblemAsync(this HttpContext context, int status, string title, string detail, string? code = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Instance = context.Request.Path,
            Extensions =
            {
                ["code"] = code ?? ProblemDetailsDefaults.CodeFor(status),
                ["trace_id"] = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier,
            },
        };
        return TypedResults.Problem(problem).ExecuteAsync(context);
    }
}
