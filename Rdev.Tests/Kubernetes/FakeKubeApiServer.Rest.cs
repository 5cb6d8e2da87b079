using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace Rdev.Tests.Kubernetes;

/// <summary>Routing, discovery and the REST verbs.</summary>
public sealed partial class FakeKubeApiServer
{
    private const string VersionJson = """{"major":"1","minor":"32","gitVersion":"v1.32.4","gitCommit":"59526cd4867447956156ae3a602fcbac10a2c335","gitTreeState":"clean","buildDate":"2025-04-22T16:03:56Z","goVersion":"go1.23.6","compiler":"gc","platform":"linux/amd64"}""";
    private const string ApiGroupListJson = """{"kind":"APIGroupList","apiVersion":"v1","groups":[]}""";
    private const string ApiResourceListJson = """
        {"kind":"APIResourceList","groupVersion":"v1","resources":[
        {"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["cm"]},
        {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]},
        {"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]},
        {"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch","update"]}]}
        """;

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var watch = IsTrue(request.Query["watch"]);
        requests.Enqueue(new FakeKubeRequest(request.Method, path, request.QueryString.Value ?? "", watch));
        try
        {
            if (TakeFault(path, watch) is { } fault)
            {
                await WriteStatusAsync(context, fault);
                return;
            }
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            await (segments switch
            {
                ["version"] => WriteJsonAsync(context, 200, VersionJson),
                ["api"] => WriteJsonAsync(context, 200, $$"""{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"{{request.Host}}"}]}"""),
                ["apis"] => WriteJsonAsync(context, 200, ApiGroupListJson),
                ["api", "v1"] => WriteJsonAsync(context, 200, ApiResourceListJson),
                ["api", "v1", var plural] => CollectionAsync(context, Resource(plural), null),
                ["api", "v1", "namespaces", var ns, var plural] => CollectionAsync(context, Resource(plural), ns),
                ["api", "v1", "namespaces", var ns, "pods", var name, "exec"] => ExecAsync(context, ns, name),
                ["api", "v1", "namespaces", var ns, "pods", var name, "status"] => ItemAsync(context, KubeResource.Pods, ns, name, statusOnly: true),
                ["api", "v1", "namespaces", var ns, var plural, var name] => ItemAsync(context, Resource(plural), ns, name, statusOnly: false),
                _ => WriteStatusAsync(context, KubeStatus.NoSuchPath()),
            });
        }
        catch (KubeStatusException e) when (!context.Response.HasStarted)
        {
            await WriteStatusAsync(context, e.Status);
        }
        catch (JsonException e) when (!context.Response.HasStarted)
        {
            await WriteStatusAsync(context, KubeStatus.BadRequest($"the body of the request was in an unknown format: {e.Message}"));
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            // A bug in the fake should read as one, not as an empty 500.
            await WriteStatusAsync(context, KubeStatus.Failure(500, "InternalError", $"fake API server failed: {e}"));
        }
    }

    private static KubeResource Resource(string plural) =>
        KubeResource.FromPlural(plural) ?? throw new KubeStatusException(KubeStatus.NoSuchPath());

    private async Task CollectionAsync(HttpContext context, KubeResource resource, string? ns)
    {
        var query = context.Request.Query;
        switch (context.Request.Method)
        {
            case "GET":
                var labels = LabelSelector.Parse(query["labelSelector"]);
                var fields = FieldSelector.Parse(query["fieldSelector"], resource.Kind);
                await (IsTrue(query["watch"])
                    ? WatchAsync(context, resource, ns, labels, fields)
                    : ListAsync(context, resource, ns, labels, fields));
                break;
            case "POST" when ns is not null:
                var input = await ReadObjectAsync(context, resource);
                var created = store.Create(resource, ns, input, resetPodStatus: true);
                await WriteJsonAsync(context, 201, KubernetesJson.Serialize(created));
                break;
            default:
                await WriteStatusAsync(context, KubeStatus.MethodNotAllowed(context.Request.Method));
                break;
        }
    }

    private async Task ListAsync(HttpContext context, KubeResource resource, string? ns, LabelSelector labels, FieldSelector fields)
    {
        var (items, revision) = store.List(resource, ns, labels, fields);
        var query = context.Request.Query;
        if (!string.IsNullOrEmpty(query["continue"]))
        {
            var after = DecodeContinue(query["continue"]!);
            items = items.SkipWhile(i => string.CompareOrdinal(Key(i), after) <= 0).ToList();
        }
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (int.TryParse(query["limit"], out var limit) && limit > 0 && items.Count > limit)
        {
            metadata["continue"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(Key(items[limit - 1])));
            metadata["remainingItemCount"] = items.Count - limit;
            items = items.Take(limit).ToList();
        }
        var list = new JsonObject
        {
            ["kind"] = resource.ListKind,
            ["apiVersion"] = "v1",
            ["metadata"] = metadata,
            ["items"] = new JsonArray(items.Select(i => JsonNode.Parse(KubernetesJson.Serialize(i))).ToArray()),
        };
        await WriteJsonAsync(context, 200, list.ToJsonString());

        static string Key(IKubernetesObject<V1ObjectMeta> o) => $"{o.Metadata.NamespaceProperty}/{o.Metadata.Name}";
    }

    private static string DecodeContinue(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw new KubeStatusException(KubeStatus.BadRequest("continue key is not valid: illegal base64 data"));
        }
    }

    private async Task ItemAsync(HttpContext context, KubeResource resource, string ns, string name, bool statusOnly)
    {
        switch (context.Request.Method)
        {
            case "GET":
                var found = store.Get(resource, ns, name) ?? throw new KubeStatusException(KubeStatus.NotFound(resource.Plural, name));
                await WriteJsonAsync(context, 200, KubernetesJson.Serialize(found));
                break;
            case "PUT":
                var input = await ReadObjectAsync(context, resource);
                var updated = store.Update(resource, ns, name, current => Replace(current, input, statusOnly));
                await WriteJsonAsync(context, 200, KubernetesJson.Serialize(updated));
                break;
            case "PATCH":
                var patch = JsonNode.Parse(await ReadBodyAsync(context));
                var contentType = context.Request.ContentType ?? "";
                if (!contentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal)
                    && !contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal))
                {
                    await WriteStatusAsync(context, KubeStatus.Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got {contentType})"));
                    return;
                }
                var patched = store.Update(resource, ns, name, current =>
                {
                    var merged = MergePatch(JsonNode.Parse(KubernetesJson.Serialize(current)), patch);
                    return Replace(current, resource.Deserialize(merged!.ToJsonString()), statusOnly);
                });
                await WriteJsonAsync(context, 200, KubernetesJson.Serialize(patched));
                break;
            case "DELETE" when !statusOnly:
                var deleted = store.Delete(resource, ns, name);
                await WriteJsonAsync(context, 200, resource == KubeResource.Pods
                    ? KubernetesJson.Serialize(deleted)
                    : new JsonObject
                    {
                        ["kind"] = "Status",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new JsonObject(),
                        ["status"] = "Success",
                        ["details"] = new JsonObject { ["name"] = name, ["kind"] = resource.Plural, ["uid"] = deleted.Metadata.Uid },
                    }.ToJsonString());
                break;
            default:
                await WriteStatusAsync(context, KubeStatus.MethodNotAllowed(context.Request.Method));
                break;
        }
    }

    /// <summary>A PUT to a pod cannot change its status, and a PUT to pods/status can change nothing else.</summary>
    private static IKubernetesObject<V1ObjectMeta> Replace(IKubernetesObject<V1ObjectMeta> current, IKubernetesObject<V1ObjectMeta> input, bool statusOnly)
    {
        if (current is V1Pod currentPod && input is V1Pod inputPod)
        {
            if (statusOnly)
            {
                currentPod.Status = inputPod.Status;
                currentPod.Metadata.ResourceVersion = inputPod.Metadata?.ResourceVersion;
                return currentPod;
            }
            inputPod.Status = currentPod.Status;
        }
        return input;
    }

    /// <summary>RFC 7386 JSON merge patch; strategic merge patches are applied the same way (lists are replaced).</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }
        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
                continue;
            }
            var existing = result[key];
            result.Remove(key);
            result[key] = MergePatch(existing, value);
        }
        return result;
    }

    private static async Task<IKubernetesObject<V1ObjectMeta>> ReadObjectAsync(HttpContext context, KubeResource resource)
    {
        var body = await ReadBodyAsync(context);
        var kind = JsonNode.Parse(body)?["kind"]?.GetValue<string>();
        if (kind is not null && kind != resource.Kind)
        {
            throw new KubeStatusException(KubeStatus.BadRequest($"the API version in the data (v1) does not match the expected kind ({kind} is not {resource.Kind})"));
        }
        return resource.Deserialize(body);
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    private static Task WriteStatusAsync(HttpContext context, V1Status status) =>
        WriteJsonAsync(context, status.Code ?? 500, status.ToJson());

    private static async Task WriteJsonAsync(HttpContext context, int code, string json)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    private static bool IsTrue(string? value) => value is "true" or "1" or "True";
}
