using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// RFC 9457 problem details for every error (SPEC section 4): a stable upper-snake <c>code</c>, the <c>trace_id</c>,
/// the request path as <c>instance</c>, never a stack trace or an internal message.
/// </summary>
public static class ProblemDetailsDefaults
{
    public static IServiceCollection AddRdevProblemDetails(this IServiceCollection services) =>
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var extensions = problem.Extensions;
            // ASP.NET Core adds camelCase traceId/requestId; rdev's JSON is snake_case.
            extensions.Remove("traceId");
            extensions.Remove("requestId");
            extensions.TryAdd("code", CodeFor(problem.Status ?? context.HttpContext.Response.StatusCode));
            extensions["trace_id"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            problem.Instance ??= context.HttpContext.Request.Path;
            if (context.Exception is not null)
            {
                problem.Detail = "An unexpected error occurred. Quote the trace_id when reporting it.";
            }
        });

    /// <summary>Exceptions and bare status codes (404 for an unknown route, 405, ...) become problem details too.</summary>
    public static WebApplication UseRdevProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "VALIDATION_FAILED",
        StatusCodes.Status401Unauthorized => "UNAUTHORIZED",
        StatusCodes.Status403Forbidden => "FORBIDDEN",
        StatusCodes.Status404NotFound => "NOT_FOUND",
        StatusCodes.Status405MethodNotAllowed => "METHOD_NOT_ALLOWED",
        StatusCodes.Status406NotAcceptable => "NOT_ACCEPTABLE",
        StatusCodes.Status409Conflict => "CONFLICT",
        StatusCodes.Status412PreconditionFailed => "PRECONDITION_FAILED",
        StatusCodes.Status413PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        StatusCodes.Status415UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
        StatusCodes.Status429TooManyRequests => "RATE_LIMITED",
        StatusCodes.Status503ServiceUnavailable => "SERVICE_UNAVAILABLE",
        _ when status >= 500 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    };
}
