using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Sessions;

/// <summary>What a client of the session endpoints does, in the words of the tests.</summary>
public static class SessionClient
{
    public static async Task<HttpClient> KeyAsync(HttpClient admin, ApiFactory replica, string name, string[] scopes, string[]? projects = null)
    {
        var created = await admin.PostAsJsonAsync("/api/v1/keys", new { name, scopes, projects });
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, text);
        var client = replica.CreateClient();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", JsonDocument.Parse(text).RootElement.GetProperty("key").GetString());
        return client;
    }

    public static async Task<string> StartAsync(HttpClient client, object body, string project = RealClaude.Project) =>
        (await CommandsHost.StartAsync(client, project, "claude", body)).GetProperty("id").GetString()!;

    public static Task<JsonElement> WaitForStatusAsync(HttpClient client, string id, string status, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(async () =>
        {
            var command = await CommandsHost.GetCommandAsync(client, id);
            return (command.GetProperty("status").GetString() == status, command);
        }, $"command {id} is {status}", timeout);

    public static async Task<JsonElement[]> ApprovalsAsync(HttpClient client, string id) =>
        [.. JsonDocument.Parse(await client.GetStringAsync($"/api/v1/commands/{id}/approvals")).RootElement.GetProperty("items").EnumerateArray()];

    public static Task<HttpResponseMessage> DecideAsync(HttpClient client, string id, string approvalId, object decision) =>
        client.PostAsJsonAsync($"/api/v1/commands/{id}/approvals/{approvalId}", decision);

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string id, string action, object? body = null) =>
        client.PostAsJsonAsync($"/api/v1/commands/{id}/{action}", body ?? new { });

    /// <summary>The statuses a command's stream showed, in order, once it has ended.</summary>
    public static async Task<(string[] Statuses, List<SseItem<string>> Events)> StreamAsync(HttpClient client, string id)
    {
        var events = await CommandsHost.ReadStreamAsync(client, id);
        return ([.. events.Where(e => e.EventType == "status").Select(e => Field(e, "status"))], events);
    }

    public static string Field(SseItem<string> item, string name) =>
        JsonDocument.Parse(item.Data).RootElement.GetProperty(name).ToString();

    /// <summary>Reads <c>GET /api/v1/events</c> (after <paramref name="lastEventId"/>) until <paramref name="until"/> holds for an event.</summary>
    public static Task<List<SseItem<string>>> ReadFeedAsync(
        HttpClient client, Func<SseItem<string>, bool> until, long? lastEventId = null, string query = "") =>
        CommandsHost.ReadEventsAsync(client, $"/api/v1/events{query}", (item, _) => until(item), lastEventId);
}
