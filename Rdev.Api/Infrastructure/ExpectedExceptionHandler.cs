using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Diagnostics;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Execution;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// Turns the exceptions that mean an expected answer into that answer, so handlers hold no try/catch for them: an
/// unreachable runtime (409 or 503), an unsafe workspace path or a busy item (409), and a request that cannot be bound
/// (malformed JSON, a string for a number: the same 400 as a validator's). Anything else stays a 500.
/// </summary>
public sealed partial class ExpectedExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (Answer(exception, httpContext) is not { } result)
        {
            return false;
        }

        await result.ExecuteAsync(httpContext);
        return true;
    }

    private static IResult? Answer(Exception exception, HttpContext context) => exception switch
    {
        RuntimeUnavailableException e => Problems.RuntimeUnavailable(e, context.GetRouteValue("name") as string),
        UnsafeWorkspacePathException e => Problems.Conflict(e.Message),
        ItemBusyException e => Problems.Conflict(e.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } e => Unreadable(e),
        // 413 and 415: the status-code-pages problem explains them (RequestLimits).
        BadHttpRequestException e => TypedResults.Problem(statusCode: e.StatusCode),
        _ => null,
    };

    /// <summary>The field a binding failure names, as snake_case: the JSON path for a body, else the parameter.</summary>
    private static ValidationProblem Unreadable(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            var path = json.Path is null or "$" ? "body" : json.Path.TrimStart('$', '.');
            return Problems.Validation(path, "The request body is not JSON of the documented shape.");
        }

        var parameter = ParameterPattern().Match(exception.Message) is { Success: true } match ? match.Groups["name"].Value : null;
        if (parameter is null || exception.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Validation("body", "A JSON request body of the documented shape is required.");
        }

        var field = ValidationExtensions.FieldPath(parameter);
        return Problems.Validation(field, exception.Message.Contains("not provided", StringComparison.Ordinal)
            ? $"{field} is required."
            : $"{field} is not a value of the documented type.");
    }

    // RequestDelegateFactory's wording: parameter "int? limit" ... (type, a space, then the parameter's name).
    [GeneratedRegex("""parameter "(?:[^"]*\s)?(?<name>[A-Za-z_][A-Za-z0-9_]*)"\s""")]
    private static partial Regex ParameterPattern();
}

public static class ExpectedExceptions
{
    /// <summary>
    /// <see cref="ExpectedExceptionHandler"/>, and binding failures thrown rather than answered with a bare 400, so
    /// that they reach it (in every environment, not only Development).
    /// </summary>
    public static IServiceCollection AddExpectedExceptions(this IServiceCollection services)
    {
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services.AddExceptionHandler<ExpectedExceptionHandler>();
    }
}
