using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// What linters and client generators need beyond what the endpoints declare: a relative server (the document is
/// right wherever it is served), a license, described tags, one <c>Problem</c> schema for every problem answer with an
/// example of it, and no <c>oneOf</c> that a null matches twice. docs/openapi.json is a copy; Rdev.Client is made from it.
/// </summary>
public static class OpenApiConventions
{
    public const string ProblemSchema = "Problem";

    private static readonly (string Name, string Description)[] Tags =
    [
        ("Keys", "API keys: create (the secret is shown once), list, show and revoke. Needs `admin`."),
        ("Projects", "Development pods (or local folders) found by discovery, with their status and command policy."),
        ("Commands", "Run git, shell and Claude Code commands in a project's workspace, follow their output live " +
            "over Server-Sent Events, read it back and cancel."),
        ("Claude sessions", "Drive a running Claude Code session (tool approvals, follow-up messages, interrupt, close) " +
            "and watch every command's lifecycle."),
        ("Claude Code configuration", "The custom slash commands, skills and agents in a project's `.claude/` folder."),
    ];

    public static Task ApplyAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken _)
    {
        document.Servers = [new OpenApiServer { Url = "/", Description = "The rdev API that serves this document." }];
        document.Info.License = new OpenApiLicense { Name = "Proprietary" };
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));

        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchema] = Problem();
        document.Components.Schemas.Remove("ProblemDetails");
        document.Components.Schemas.Remove("HttpValidationProblemDetails");
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            if (operation.RequestBody is not null)
            {
                // Any body: the request size limits and the JSON-only input formatter answer these before the handler.
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("413", ProblemAnswer("The body is larger than the endpoint accepts."));
                operation.Responses.TryAdd("415", ProblemAnswer("The body is not `application/json`."));
            }

            foreach (var (status, response) in operation.Responses ?? new OpenApiResponses())
            {
                if (response.Content?.TryGetValue("application/problem+json", out var media) == true)
                {
                    media.Schema = new OpenApiSchemaReference(ProblemSchema, document);
                    media.Example ??= Example(int.Parse(status, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        UntangleNullableJson(document);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A nullable <c>JsonNode</c> property comes out as <c>oneOf: [null, JsonNode]</c>, and the JsonNode schema (any
    /// value) matches null too, so a null example is invalid; "any JSON value" says the same thing correctly.
    /// </summary>
    private static void UntangleNullableJson(OpenApiDocument document)
    {
        foreach (var schema in document.Components!.Schemas!.Values.OfType<OpenApiSchema>())
        {
            foreach (var (name, property) in schema.Properties?.ToList() ?? [])
            {
                if (property.OneOf is { Count: 2 } oneOf && oneOf.Any(s => s.Type == JsonSchemaType.Null)
                    && oneOf.Any(s => s is OpenApiSchemaReference { Reference.Id: "JsonNode" }))
                {
                    schema.Properties![name] = new OpenApiSchema { Description = "Any JSON value, or null." };
                }
            }
        }

        // Those were its only uses (the lint test would report a dangling reference).
        document.Components.Schemas.Remove("JsonNode");
    }

    private static OpenApiResponse ProblemAnswer(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() },
    };

    /// <summary>An example of a text answer (plain text, an event stream), whose schema is a string.</summary>
    public static RouteHandlerBuilder WithTextExample(this RouteHandlerBuilder builder, string contentType, string example) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue("200", out var answer) == true && answer.Content?.TryGetValue(contentType, out var media) == true)
            {
                media.Example = example;
            }

            return Task.CompletedTask;
        });

    private static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details with rdev's stable `code` and the request's `trace_id`.",
        Required = new HashSet<string> { "type", "title", "status", "code" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Stable, upper snake case, e.g. `NOT_FOUND`." },
            ["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "For `VALIDATION_FAILED`: messages by snake_case field path.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        },
    };

    private static JsonObject Example(int status)
    {
        var (title, detail, code) = status switch
        {
            400 => (ProblemCodes.ValidationTitle, "limit must be between 1 and 500.", ProblemCodes.ValidationFailed),
            404 => ("Not Found", "There is no project 'pantheon' that this key may use.", ProblemCodes.NotFound),
            409 => ("Conflict", "Project 'pantheon' is unavailable now. Its status is 'starting'.", ProblemCodes.ProjectUnavailable),
            412 => ("Precondition Failed", "The item changed since it was read; read it again.", ProblemCodes.PreconditionFailed),
            413 => ("Payload Too Large", "The request body is larger than this endpoint accepts.", ProblemCodes.PayloadTooLarge),
            415 => ("Unsupported Media Type", "The request body's Content-Type is not one this endpoint accepts.", ProblemCodes.UnsupportedMediaType),
            428 => ("Precondition Required", "Send If-Match with the item's ETag (or *).", ProblemCodes.PreconditionRequired),
            503 => ("Kubernetes unavailable", "The Kubernetes API is unavailable. Retry later.", ProblemCodes.KubernetesUnavailable),
            _ => ("Error", "The request failed.", ProblemCodes.BadRequest),
        };
        var example = new JsonObject
        {
            ["type"] = $"https://tools.ietf.org/html/rfc9110#section-15.{(status >= 500 ? 6 : 5)}.{status % 100 + 1}",
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["instance"] = "/api/v1/projects/pantheon",
            ["code"] = code,
            ["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736",
        };
        if (status == 400)
        {
            example["errors"] = new JsonObject { ["limit"] = new JsonArray("limit must be between 1 and 500.") };
        }

        return example;
    }
}
