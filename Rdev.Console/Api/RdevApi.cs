using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Console.Account;

namespace Rdev.Console.Api;

/// <summary>
/// Every call the console makes to the rdev API, with the circuit's key. Pages talk only to this class, so the
/// transport behind it is one file's business. Failures surface as <see cref="ApiProblemException"/>.
/// </summary>
public sealed partial class RdevApi(IHttpClientFactory clients, ConsoleUser user)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public Task<Page<ProjectInfo>> ProjectsAsync(CancellationToken ct = default) =>
        GetAsync<Page<ProjectInfo>>("/api/v1/projects?limit=100", ct);

    public Task<ProjectInfo> ProjectAsync(string name, CancellationToken ct = default) =>
        GetAsync<ProjectInfo>($"/api/v1/projects/{Uri.EscapeDataString(name)}", ct);

    public Task<Page<CommandInfo>> CommandsAsync(string project, string? cursor = null, CancellationToken ct = default) =>
        GetAsync<Page<CommandInfo>>($"/api/v1/projects/{Uri.EscapeDataString(project)}/commands?limit=50" +
            (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"), ct);

    public Task<CommandInfo> CommandAsync(Guid id, CancellationToken ct = default) =>
        GetAsync<CommandInfo>($"/api/v1/commands/{id}", ct);

    public async Task<IReadOnlyList<ApprovalInfo>> ApprovalsAsync(Guid id, CancellationToken ct = default) =>
        (await GetAsync<Page<ApprovalInfo>>($"/api/v1/commands/{id}/approvals", ct)).Items;

    public async Task<ApprovalInfo> DecideAsync(Guid id, Guid approvalId, bool allow, CancellationToken ct = default)
    {
        try
        {
            return await SendAsync<ApprovalInfo>(HttpMethod.Post, $"/api/v1/commands/{id}/approvals/{approvalId}",
                new { decision = allow ? "allow" : "deny" }, ct);
        }
        catch (ApiProblemException problem) when (problem.IsForbidden)
        {
            user.ApproveRefused();
            throw;
        }
    }

    public Task<CommandInfo> RunGitAsync(string project, IReadOnlyList<string> args, CancellationToken ct = default) =>
        SendAsync<CommandInfo>(HttpMethod.Post, $"/api/v1/projects/{Uri.EscapeDataString(project)}/git", new { args }, ct);

    public Task<CommandInfo> RunShellAsync(string project, string command, CancellationToken ct = default) =>
        SendAsync<CommandInfo>(HttpMethod.Post, $"/api/v1/projects/{Uri.EscapeDataString(project)}/shell", new { command }, ct);

    public Task<CommandInfo> RunClaudeAsync(string project, ClaudeRun run, CancellationToken ct = default) =>
        SendAsync<CommandInfo>(HttpMethod.Post, $"/api/v1/projects/{Uri.EscapeDataString(project)}/claude", run, ct);

    public Task SendMessageAsync(Guid id, string text, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/api/v1/commands/{id}/messages", new { text }, ct);

    /// <summary><paramref name="action"/> is <c>cancel</c>, <c>interrupt</c> or <c>close</c>.</summary>
    public Task ActAsync(Guid id, string action, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/api/v1/commands/{id}/{action}", new { }, ct);

    public async Task<IReadOnlyList<ConfigItemSummary>> ConfigItemsAsync(string project, string type, CancellationToken ct = default) =>
        (await GetAsync<Page<ConfigItemSummary>>(ConfigPath(project, type) + "?limit=100", ct)).Items;

    public async Task<ConfigItem> ConfigItemAsync(string project, string type, string name, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, ConfigPath(project, type, name), null, null, ct);
        return await ItemAsync(response, ct);
    }

    public async Task<ConfigItem> CreateConfigItemAsync(string project, string type, string name, string content, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Post, ConfigPath(project, type), new { name, content }, null, ct);
        return await ItemAsync(response, ct);
    }

    /// <summary>Replaces the item only if it is still the version <paramref name="etag"/> names: a 412 otherwise.</summary>
    public async Task<ConfigItem> UpdateConfigItemAsync(string project, string type, string name, string content, string etag, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Put, ConfigPath(project, type, name), new { content }, etag, ct);
        return await ItemAsync(response, ct);
    }

    public async Task DeleteConfigItemAsync(string project, string type, string name, string etag, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Delete, ConfigPath(project, type, name), null, etag, ct);
    }

    private static string ConfigPath(string project, string type, string? item = null) =>
        $"/api/v1/projects/{Uri.EscapeDataString(project)}/claude-config/{Uri.EscapeDataString(type)}" +
        (item is null ? "" : "/" + Uri.EscapeDataString(item));

    private static async Task<ConfigItem> ItemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var item = (await response.Content.ReadFromJsonAsync<ConfigItem>(Json, ct))!;
        return item with { ETag = response.Headers.ETag?.ToString() ?? "" };
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, null, ct);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object body, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, body, null, ct);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, string? ifMatch, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await user.KeyAsync());
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        var response = await clients.CreateClient(ApiClients.Calls).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ApiProblemException.ReadAsync(response, ct);
            }
        }

        return response;
    }
}

/// <summary>The body of <c>POST /api/v1/projects/{name}/claude</c>, as far as the Run form offers it.</summary>
public sealed record ClaudeRun(string Prompt, bool? KeepOpen = null, string? Model = null, string? SessionId = null);
