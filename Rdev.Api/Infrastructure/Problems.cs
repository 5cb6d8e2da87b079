using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Rdev.Api.Infrastructure;

public static class Problems
{
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
