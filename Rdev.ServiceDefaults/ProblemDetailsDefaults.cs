using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Core;

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
        StatusCodes.Status400BadRequest => ProblemCodes.ValidationFailed,
        StatusCodes.Status401Unauthorized => ProblemCodes.Unauthorized,
        StatusCodes.Status403Forbidden => ProblemCodes.Forbidden,
        StatusCodes.Status404NotFound => ProblemCodes.NotFound,
        StatusCodes.Status405MethodNotAllowed => ProblemCodes.MethodNotAllowed,
        StatusCodes.Status406NotAcceptable => ProblemCodes.NotAcceptable,
        StatusCodes.Status409Conflict => ProblemCodes.Conflict,
        StatusCodes.Status412PreconditionFailed => ProblemCodes.PreconditionFailed,
        StatusCodes.Status413PayloadTooLarge => ProblemCodes.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => ProblemCodes.UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => ProblemCodes.RateLimited,
        StatusCodes.Status503ServiceUnavailable => ProblemCodes.ServiceUnavailable,
        _ when status >= 500 => ProblemCodes.InternalError,
        _ => ProblemCodes.BadRequest,
    };
}
