using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>Requests and file-system views the configuration tests share.</summary>
internal static class ConfigTestKit
{
    public static readonly string[] Types = ["commands", "agents", "skills"];

    public static string Url(string project, string type, string? item = null) =>
        $"/api/v1/projects/{project}/claude-config/{type}" + (item is null ? "" : "/" + Uri.EscapeDataString(item));

    /// <summary>Where the item's file lives in the workspace, as Claude Code expects it.</summary>
    public static string ItemFile(string workspace, string type, string name) => type == "skills"
        ? Path.Combine(workspace, ".claude", "skills", name, "SKILL.md")
        : Path.Combine(workspace, ".claude", type, name + ".md");

    public static string ETagOf(byte[] bytes) => $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"";

    public static async Task<(HttpStatusCode Status, JsonElement Body, string? ETag)> SendAsync(
        HttpClient client, HttpMethod method, string url, object? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, json, response.Headers.ETag?.ToString());
    }

    public static async Task<(JsonElement Body, string ETag)> CreateAsync(HttpClient client, string project, string type, string name, string content)
    {
        var (status, body, etag) = await SendAsync(client, HttpMethod.Post, Url(project, type), new { name, content });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status}: {body}");
        return (body, etag!);
    }

    public static async Task<(JsonElement Body, string ETag)> GetAsync(HttpClient client, string project, string type, string name)
    {
        var (status, body, etag) = await SendAsync(client, HttpMethod.Get, Url(project, type, name));
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body}");
        return (body, etag!);
    }

    /// <summary>Sends raw bytes as an application/json body.</summary>
    public static async Task<HttpResponseMessage> SendRawAsync(HttpClient client, HttpMethod method, string url, byte[] body, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Every file and folder under <paramref name="root"/> with its bytes' hash (links as their target).</summary>
    public static SortedDictionary<string, string> Snapshot(string root)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions
                 { RecurseSubdirectories = true, AttributesToSkip = 0, ReturnSpecialDirectories = false }))
        {
            var relative = Path.GetRelativePath(root, entry.FullName);
            snapshot[relative] = entry.LinkTarget is { } target ? "link:" + target
                : entry is FileInfo file ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file.FullName)))
                : "dir";
        }

        return snapshot;
    }

    /// <summary>Temporary files an interrupted write could leave anywhere in the workspace.</summary>
    public static string[] TemporaryFiles(string workspace) =>
        Directory.Exists(workspace)
            ? Directory.EnumerateFileSystemEntries(workspace, "*.rdev-*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToArray()
            : [];

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
