using System.Text.Json.Nodes;
using k8s.Models;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// Builds <c>metav1.Status</c> objects the way the real API server words them, so client code
/// that matches on <c>reason</c>, <c>code</c> or <c>details</c> sees what a cluster would send.
/// </summary>
public static class KubeStatus
{
    public static V1Status Failure(int code, string reason, string message, V1StatusDetails? details = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Status",
        Metadata = new V1ListMeta(),
        Status = "Failure",
        Message = message,
        Reason = reason,
        Details = details,
        Code = code,
    };

    public static V1Status NotFound(string resource, string name) =>
        Failure(404, "NotFound", $"{resource} \"{name}\" not found", new V1StatusDetails { Name = name, Kind = resource });

    public static V1Status NoSuchPath() =>
        Failure(404, "NotFound", "the server could not find the requested resource", new V1StatusDetails());

    public static V1Status AlreadyExists(string resource, string name) =>
        Failure(409, "AlreadyExists", $"{resource} \"{name}\" already exists", new V1StatusDetails { Name = name, Kind = resource });

    public static V1Status Conflict(string resource, string name) => Failure(409, "Conflict",
        $"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        new V1StatusDetails { Name = name, Kind = resource });

    public static V1Status BadRequest(string message) => Failure(400, "BadRequest", message);

    public static V1Status Invalid(string kind, string name, IReadOnlyList<V1StatusCause> causes)
    {
        var errors = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        var joined = errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]";
        return Failure(422, "Invalid", $"{kind} \"{name}\" is invalid: {joined}",
            new V1StatusDetails { Name = name, Kind = kind, Causes = causes.ToList() });
    }

    public static V1Status Expired(long requested, long oldest) =>
        Failure(410, "Expired", $"too old resource version: {requested} ({oldest})");

    public static V1Status MethodNotAllowed(string method) =>
        Failure(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})");

    /// <summary>A Status for an injected fault; the reason follows the code as apimachinery maps it.</summary>
    public static V1Status ForCode(int code, string message) => code switch
    {
        400 => Failure(code, "BadRequest", message),
        401 => Failure(code, "Unauthorized", message),
        403 => Failure(code, "Forbidden", message),
        404 => Failure(code, "NotFound", message),
        409 => Failure(code, "Conflict", message),
        410 => Failure(code, "Expired", message),
        422 => Failure(code, "Invalid", message),
        429 => Failure(code, "TooManyRequests", message),
        503 => Failure(code, "ServiceUnavailable", message),
        504 => Failure(code, "Timeout", message),
        _ => Failure(code, "InternalError", $"Internal error occurred: {message}"),
    };

    /// <summary>
    /// Serializes a Status. Written by hand because KubernetesClient's own V1Status converter
    /// only reads (its Write throws NotImplementedException).
    /// </summary>
    public static string ToJson(this V1Status status)
    {
        var json = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = status.Status };
        AddIfSet(json, "message", status.Message);
        AddIfSet(json, "reason", status.Reason);
        if (status.Details is { } d)
        {
            var details = new JsonObject();
            AddIfSet(details, "name", d.Name);
            AddIfSet(details, "group", d.Group);
            AddIfSet(details, "kind", d.Kind);
            AddIfSet(details, "uid", d.Uid);
            if (d.Causes is { Count: > 0 })
            {
                details["causes"] = new JsonArray(d.Causes.Select(c =>
                {
                    var cause = new JsonObject();
                    AddIfSet(cause, "reason", c.Reason);
                    AddIfSet(cause, "message", c.Message);
                    AddIfSet(cause, "field", c.Field);
                    return (JsonNode)cause;
                }).ToArray());
            }
            if (d.RetryAfterSeconds is { } retry)
            {
                details["retryAfterSeconds"] = retry;
            }
            json["details"] = details;
        }
        if (status.Code is { } code)
        {
            json["code"] = code;
        }
        return json.ToJsonString();
    }

    private static void AddIfSet(JsonObject json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json[name] = value;
        }
    }
}

/// <summary>Thrown by the fake's C# mutation methods with the Status the HTTP API would have returned.</summary>
public sealed class KubeStatusException(V1Status status) : Exception(status.Message)
{
    public V1Status Status { get; } = status;

    public int Code => Status.Code ?? 500;
}
