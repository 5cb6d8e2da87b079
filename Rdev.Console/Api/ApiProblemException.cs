using System.Net;
using System.Text.Json;

namespace Rdev.Console.Api;

/// <summary>An <c>application/problem+json</c> answer of the API, shown to the person as its title and detail.</summary>
public sealed class ApiProblemException(HttpStatusCode status, string? code, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    public string? Code { get; } = code;

    public bool IsForbidden => Status == HttpStatusCode.Forbidden;

    public static async Task<ApiProblemException> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string? code = null, title = null, detail = null;
        try
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            using var json = JsonDocument.Parse(body);
            code = Text(json.RootElement, "code");
            title = Text(json.RootElement, "title");
            detail = Text(json.RootElement, "detail");
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page): the status says enough.
        }

        var status = (int)response.StatusCode;
        var message = (title, detail) switch
        {
            (not null, not null) => $"{title}: {detail}",
            (not null, null) => title,
            (null, not null) => detail,
            _ => $"The API answered {status} {response.ReasonPhrase}.",
        };
        return new ApiProblemException(response.StatusCode, code, code is null ? message : $"{message} ({code}, {status})");
    }

    private static string? Text(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;
}
