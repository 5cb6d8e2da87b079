using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Rdev.Api.Infrastructure;

/// <summary>OpenAPI 3.1 at /openapi/v1.json and the Scalar UI at /docs, in every environment.</summary>
public static class ApiDocs
{
    public static IServiceCollection AddApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "rdev API",
                    Version = "v1",
                    Description = "Drive Claude Code, git and shell commands in Kubernetes development pods, " +
                        "stream their output over Server-Sent Events, and manage Claude Code configuration.",
                };
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer(OpenApiConventions.ApplyAsync);
        });

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", options => options.WithTitle("rdev API"));
        return app;
    }
}
