using System.Text;
using System.Text.Json;
using FluentValidation;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// Runs the FluentValidation validator for the endpoint's <typeparamref name="T"/> argument and answers 400
/// <c>VALIDATION_FAILED</c> with <c>errors</c> keyed by snake_case field path (<c>allowed_ips[0]</c>) before the handler
/// runs. Attach with <see cref="ValidationExtensions.WithValidation{T}"/>.
/// </summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var argument = context.Arguments.OfType<T>().FirstOrDefault();
        if (argument is null)
        {
            return Problems.Validation("body", "A JSON request body is required.");
        }

        var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
        if (result.IsValid)
        {
            return await next(context);
        }

        var errors = result.Errors
            .GroupBy(error => ValidationExtensions.FieldPath(error.PropertyName))
            .ToDictionary(group => group.Key, group => group.Select(error => error.ErrorMessage).Distinct().ToArray());
        return Problems.Validation(errors);
    }
}

public static class ValidationExtensions
{
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem();

    /// <summary>Validators of every feature, and snake_case field names in their default messages.</summary>
    public static IServiceCollection AddRequestValidation(this IServiceCollection services)
    {
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : FieldPath(member.Name);
        return services.AddValidatorsFromAssemblyContaining<ApiMarker>(includeInternalTypes: true);
    }

    /// <summary><c>AllowedIps[0].Value</c> → <c>allowed_ips[0].value</c>.</summary>
    public static string FieldPath(string propertyPath)
    {
        if (string.IsNullOrEmpty(propertyPath))
        {
            return "body";
        }

        var path = new StringBuilder(propertyPath.Length + 8);
        foreach (var segment in propertyPath.Split('.'))
        {
            if (path.Length > 0)
            {
                path.Append('.');
            }

            var bracket = segment.IndexOf('[');
            var name = bracket < 0 ? segment : segment[..bracket];
            path.Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(name));
            if (bracket >= 0)
            {
                path.Append(segment, bracket, segment.Length - bracket);
            }
        }

        return path.ToString();
    }
}
