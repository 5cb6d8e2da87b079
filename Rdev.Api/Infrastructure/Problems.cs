using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Rdev.Api.Infrastructure;

public static class Problems
{
    /// <summary>A problem answer from an endpoint, with rdev's stable <c>code</c>.</summary>
    public static ProblemHttpResult Result(int status, string title, string detail, string code) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>The one answer for a project that does not exist and one this key may not use (so it learns nothing).</summary>
    public static ProblemHttpResult ProjectNotFound(string name) =>
        Result(StatusCodes.Status404NotFound, "Project not found", $"There is no project '{name}' that this key may use.", "NOT_FOUND");

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
