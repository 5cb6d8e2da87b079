using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rdev.Api.Infrastructure;

public static class RequestLimits
{
    /// <summary>
    /// No rdev request body needs more than this (the largest, a Claude Code configuration item, is at most 256 KiB
    /// of content); endpoints lower it further with <c>RequestSizeLimitAttribute</c>. Larger bodies get 413.
    /// </summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = MaxRequestBodyBytes);

        // A body over the limit or of the wrong Content-Type is a bare status code (see ExpectedExceptionHandler),
        // which the status-code-pages problem then explains; other 400s are validation problems.
        return services.PostConfigure<ProblemDetailsOptions>(options =>
        {
            var customize = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                customize?.Invoke(context);
                var problem = context.ProblemDetails;
                if (problem.Detail is not null || problem is HttpValidationProblemDetails)
                {
                    return;
                }

                if (problem.Status == StatusCodes.Status400BadRequest)
                {
                    // Any 400 that did not come from Problems.Validation still has the one shape of a 400.
                    problem.Title = ProblemCodes.ValidationTitle;
                    problem.Extensions.TryAdd("errors", new Dictionary<string, string[]> { ["body"] = ["The request could not be read."] });
                }

                problem.Detail = problem.Status switch
                {
                    StatusCodes.Status400BadRequest =>
                        "The request could not be read: the body must be JSON of the documented shape and every parameter of the documented type.",
                    StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
                    StatusCodes.Status415UnsupportedMediaType => "The request body's Content-Type is not one this endpoint accepts.",
                    _ => null,
                };
            };
        });
    }
}
