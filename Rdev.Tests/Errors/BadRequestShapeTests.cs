using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Tests.Commands;

namespace Rdev.Tests.Errors;

/// <summary>
/// Every endpoint the API maps, found through its <see cref="EndpointDataSource"/> (so a new endpoint is covered
/// without touching this test), is sent bad requests: a malformed or mistyped JSON body, invalid route values,
/// cursors, limits and If-Match headers. A client must be able to handle every 400 with one piece of code.
/// </summary>
public sealed partial class BadRequestShapeTests : IAsyncLifetime
{
    private const string Project = "shapes";
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    /// <summary>Route values, query, body and If-Match of one bad request; null leaves the part out.</summary>
    private sealed record Variant(Dictionary<string, string> Route, string Query, string? Body, string? IfMatch);

    private static readonly Variant[] Variants =
    [
        // Malformed JSON, an invalid item name, a malformed If-Match.
        new(new() { ["name"] = Project, ["type"] = "commands", ["item"] = "Bad Item!" }, "", "{\"name\": ", "no-quotes"),
        // JSON of the wrong shape; cursors, limits and event ids no client was given.
        new(new() { ["name"] = Project, ["type"] = "commands", ["item"] = "an-item" },
            "?cursor=%25%25not-a-cursor&limit=0&last_event_id=-1",
            """{"name": [], "content": 5, "args": "x", "prompt": {}, "command": 1, "scopes": "x", "allowed_ips": 3}""", "W/bad"),
        // Parameters that are not of their type; a body that is JSON but not an object.
        new(new() { ["name"] = Project, ["type"] = "agents", ["item"] = "an-item" }, "?limit=abc&include_gone=maybe", "[1, 2]", null),
        // An invalid project name and an empty body.
        new(new() { ["name"] = "Not_A..Name!", ["type"] = "skills", ["item"] = "x" }, "?limit=100000", "", "*"),
    ];

    [Fact]
    public async Task EveryEndpointAnswersBadInputWithTheOneValidationProblemAndNeverWith500()
    {
        var (factory, client) = host.StartReplica();
        await host.AddProjectAsync(Project);
        await CommandsHost.WaitForProjectAsync(client, Project);

        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (Endpoint: endpoint, Method: method)))
            .ToList();
        Assert.Contains(endpoints, e => e.Endpoint.RoutePattern.RawText == "/api/v1/projects/{name}/claude-config/{type}/{item}" && e.Method == "PUT");

        var failures = new List<string>();
        var badRequests = new HashSet<string>();
        foreach (var (endpoint, method) in endpoints)
        {
            var label = $"{method} {endpoint.RoutePattern.RawText}";
            var readsJson = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Contains("application/json") == true;
            foreach (var variant in Variants)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), Render(endpoint.RoutePattern.RawText!, variant.Route) + variant.Query);
                if (readsJson && variant.Body is not null)
                {
                    request.Content = new StringContent(variant.Body, Encoding.UTF8, "application/json");
                }

                if (variant.IfMatch is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-Match", variant.IfMatch);
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode == HttpStatusCode.InternalServerError)
                {
                    failures.Add($"{label} {request.RequestUri}: 500 {await response.Content.ReadAsStringAsync(timeout.Token)}");
                }
                else if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    badRequests.Add(label);
                    if (await ShapeProblemAsync(response, timeout.Token) is { } problem)
                    {
                        failures.Add($"{label} {request.RequestUri}: {problem}");
                    }
                }
            }

            if (readsJson && !badRequests.Contains(label))
            {
                failures.Add($"{label}: no bad body was answered with 400");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // The cursor, limit, item, If-Match and Last-Event-ID checks made in handlers are among them.
        foreach (var handlerCheck in HandlerChecks)
        {
            Assert.True(badRequests.Contains(handlerCheck), $"{handlerCheck} not among: {string.Join(", ", badRequests)}");
        }
    }

    private static readonly string[] HandlerChecks =
    [
        "GET /api/v1/projects/", "GET /api/v1/keys/", "GET /api/v1/projects/{name}/commands", "GET /api/v1/commands/{id:guid}/stream",
        "GET /api/v1/projects/{name}/claude-config/{type}/", "GET /api/v1/projects/{name}/claude-config/{type}/{item}",
        "DELETE /api/v1/projects/{name}/claude-config/{type}/{item}",
    ];

    /// <summary>What is wrong with a 400's body, or null when it has the one shape.</summary>
    private static async Task<string?> ShapeProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType}: {text}";
        }

        var body = JsonDocument.Parse(text).RootElement;
        var shaped = body.TryGetProperty("status", out var status) && status.GetInt32() == 400
            && body.TryGetProperty("title", out var title) && title.GetString() == "One or more validation errors occurred."
            && body.TryGetProperty("code", out var code) && code.GetString() == "VALIDATION_FAILED"
            && body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
            && errors.EnumerateObject().Any(field => field.Value.ValueKind == JsonValueKind.Array && field.Value.GetArrayLength() > 0);
        return shaped ? null : text;
    }

    private static string Render(string pattern, Dictionary<string, string> values) =>
        RouteParameter().Replace(pattern, match => match.Groups["name"].Value switch
        {
            _ when match.Value.Contains(":guid", StringComparison.Ordinal) => Guid.NewGuid().ToString(),
            "id" => "rdev_nosuchkey",
            var name => Uri.EscapeDataString(values.GetValueOrDefault(name, "x")),
        });

    [GeneratedRegex(@"\{\*{0,2}(?<name>\w+)(:[^}]*)?\??\}")]
    private static partial Regex RouteParameter();
}
