using System.Text.Json.Nodes;

namespace Rdev.Api.Keys;

/// <summary>Request and response examples for the keys endpoints in the OpenAPI document.</summary>
internal static class KeysOpenApi
{
    private static JsonObject Record(bool withKey = false)
    {
        var record = new JsonObject
        {
            ["id"] = "qdk9m8t0ppou",
            ["name"] = "ci pipeline",
            ["scopes"] = new JsonArray("projects:read", "commands:run", "commands:read"),
            ["projects"] = new JsonArray("pantheon"),
            ["allowed_ips"] = new JsonArray("203.0.113.0/24"),
            ["expires_at"] = "2027-06-30T00:00:00+00:00",
            ["created_at"] = "2026-11-27T02:14:50.040677+00:00",
            ["last_used_at"] = null,
            ["revoked_at"] = null,
        };
        if (withKey)
        {
            record["key"] = "rdev_qdk9m8t0ppou_UeYkqiaK9XcWQhxAJGZOCxWT29T0zpAV";
        }

        return record;
    }

    public static readonly JsonObject CreateRequest = new()
    {
        ["name"] = "ci pipeline",
        ["scopes"] = new JsonArray("projects:read", "commands:run", "commands:read"),
        ["projects"] = new JsonArray("pantheon"),
        ["allowed_ips"] = new JsonArray("203.0.113.0/24"),
        ["expires_at"] = "2027-06-30T00:00:00Z",
    };

    public static readonly JsonObject Created = Record(withKey: true);

    public static readonly JsonObject Shown = Record();

    public static readonly JsonObject Page = new()
    {
        ["items"] = new JsonArray(Record()),
        ["next_cursor"] = "MTc5NTc0NTY5MDA0MDY3Ny5xZGs5bTh0MHBwb3U",
    };

    public static RouteHandlerBuilder WithExamples(this RouteHandlerBuilder builder, JsonNode? request, string status, JsonNode response) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (request is not null && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
            {
                body.Example = request.DeepClone();
            }

            if (operation.Responses?.TryGetValue(status, out var answer) == true
                && answer.Content?.TryGetValue("application/json", out var media) == true)
            {
                media.Example = response.DeepClone();
            }

            return Task.CompletedTask;
        });
}
