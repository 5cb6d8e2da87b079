using System.Text.Json;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;
using Rdev.Client;
using Models = Rdev.Client.Generated.Models;
using Rdev.Console.Account;

namespace Rdev.Console.Api;

/// <summary>
/// Every call the console makes to the rdev API, through Rdev.Client with the circuit's key. Pages talk only to this
/// class and see the console's own small records, read from the client's models by their
/// JSON (Api/ApiModels.cs), so a page never depends on generated types. Failures surface as Rdev.Client's <see cref="RdevProblemException"/>.
/// </summary>
public sealed partial class RdevApi(IRdevClientFactory clients, IHttpClientFactory http, ConsoleUser user)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public Task<Page<ProjectInfo>> ProjectsAsync(CancellationToken ct = default) =>
        CallAsync<Page<ProjectInfo>, Models.ProjectPage>(c => c.V1.Projects.GetAsync(r => r.QueryParameters.Limit = 100, ct));

    public Task<Page<CommandInfo>> CommandsAsync(string project, string? cursor = null, CancellationToken ct = default) =>
        CallAsync<Page<CommandInfo>, Models.CommandPage>(c => c.V1.Projects[project].Commands.GetAsync(r =>
        {
            r.QueryParameters.Limit = 50;
            r.QueryParameters.Cursor = cursor;
        }, ct));

    public Task<CommandInfo> CommandAsync(Guid id, CancellationToken ct = default) =>
        CallAsync<CommandInfo, Models.CommandRecord>(c => c.V1.Commands[id].GetAsync(cancellationToken: ct));

    public async Task<IReadOnlyList<ApprovalInfo>> ApprovalsAsync(Guid id, CancellationToken ct = default) =>
        (await CallAsync<Page<ApprovalInfo>, Models.ApprovalList>(c => c.V1.Commands[id].Approvals.GetAsync(cancellationToken: ct))).Items;

    public async Task<ApprovalInfo> DecideAsync(Guid id, Guid approvalId, bool allow, CancellationToken ct = default)
    {
        try
        {
            return await CallAsync<ApprovalInfo, Models.ApprovalRecord>(c => c.V1.Commands[id].Approvals[approvalId].PostAsync(
                new Models.ApprovalDecision { Decision = allow ? "allow" : "deny" }, cancellationToken: ct));
        }
        catch (RdevProblemException problem) when (problem.Status == StatusCodes.Status403Forbidden)
        {
            user.ApproveRefused();
            throw;
        }
    }

    public Task<CommandInfo> RunGitAsync(string project, IReadOnlyList<string> args, CancellationToken ct = default) =>
        CallAsync<CommandInfo, Models.CommandRecord>(c => c.V1.Projects[project].Git.PostAsync(new Models.GitRequest { Args = [.. args] }, cancellationToken: ct));

    public Task<CommandInfo> RunShellAsync(string project, string command, CancellationToken ct = default) =>
        CallAsync<CommandInfo, Models.CommandRecord>(c => c.V1.Projects[project].Shell.PostAsync(new Models.ShellRequest { Command = command }, cancellationToken: ct));

    public Task<CommandInfo> RunClaudeAsync(string project, ClaudeRun run, CancellationToken ct = default) =>
        CallAsync<CommandInfo, Models.CommandRecord>(c => c.V1.Projects[project].Claude.PostAsync(
            new Models.ClaudeRequest { Prompt = run.Prompt, KeepOpen = run.KeepOpen, Model = run.Model, SessionId = run.SessionId },
            cancellationToken: ct));

    public Task SendMessageAsync(Guid id, string text, CancellationToken ct = default) =>
        CallAsync(c => c.V1.Commands[id].Messages.PostAsync(new Models.SessionMessage { Text = text }, cancellationToken: ct));

    /// <summary><paramref name="action"/> is <c>cancel</c>, <c>interrupt</c> or <c>close</c>.</summary>
    public Task ActAsync(Guid id, string action, CancellationToken ct = default) => action switch
    {
        "cancel" => CallAsync(c => c.V1.Commands[id].Cancel.PostAsync(cancellationToken: ct)),
        "interrupt" => CallAsync(c => c.V1.Commands[id].Interrupt.PostAsync(cancellationToken: ct)),
        "close" => CallAsync(c => c.V1.Commands[id].Close.PostAsync(cancellationToken: ct)),
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "cancel, interrupt or close"),
    };

    public async Task<IReadOnlyList<ConfigItemSummary>> ConfigItemsAsync(string project, string type, CancellationToken ct = default) =>
        (await CallAsync<Page<ConfigItemSummary>, Models.ConfigItemPage>(c => c.V1.Projects[project].ClaudeConfig[type].GetAsync(
            r => r.QueryParameters.Limit = 100, ct))).Items;

    public Task<ConfigItem> ConfigItemAsync(string project, string type, string name, CancellationToken ct = default) =>
        ItemAsync((c, headers) => c.V1.Projects[project].ClaudeConfig[type][name].GetAsync(r => r.Options.Add(headers), ct));

    public Task<ConfigItem> CreateConfigItemAsync(string project, string type, string name, string content, CancellationToken ct = default) =>
        ItemAsync((c, headers) => c.V1.Projects[project].ClaudeConfig[type].PostAsync(
            new Models.CreateConfigItemRequest { Name = name, Content = content }, r => r.Options.Add(headers), ct));

    /// <summary>Replaces the item only if it is still the version <paramref name="etag"/> names: a 412 otherwise.</summary>
    public Task<ConfigItem> UpdateConfigItemAsync(string project, string type, string name, string content, string etag, CancellationToken ct = default) =>
        ItemAsync((c, headers) => c.V1.Projects[project].ClaudeConfig[type][name].PutAsync(new Models.UpdateConfigItemRequest { Content = content }, r =>
        {
            r.Headers.Add("If-Match", etag);
            r.Options.Add(headers);
        }, ct));

    public Task DeleteConfigItemAsync(string project, string type, string name, string etag, CancellationToken ct = default) =>
        CallAsync(async c =>
        {
            await c.V1.Projects[project].ClaudeConfig[type][name].DeleteAsync(r => r.Headers.Add("If-Match", etag), ct);
            return true;
        });

    /// <summary>A config item with its ETag, which Rdev.Client does not expose: read with Kiota's headers inspection.</summary>
    private async Task<ConfigItem> ItemAsync(Func<RdevClient, HeadersInspectionHandlerOption, Task<Models.ConfigItem?>> send)
    {
        var headers = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var item = await CallAsync<ConfigItem, Models.ConfigItem>(c => send(c, headers));
        return item with { ETag = headers.ResponseHeaders.TryGetValue("ETag", out var etag) ? etag.FirstOrDefault() ?? "" : "" };
    }

    /// <summary>Calls the API as the signed-in key and reads the answer (a generated model) as the console's record, by its JSON.</summary>
    private async Task<T> CallAsync<T, TModel>(Func<RdevClient, Task<TModel?>> call) where TModel : IParsable
    {
        var answer = await CallAsync(call);
        var json = answer is null ? "null" : await KiotaJsonSerializer.SerializeAsStringAsync(answer, serializeOnlyChangedValues: false);
        return JsonSerializer.Deserialize<T>(json, Json)!;
    }

    private async Task<TResult> CallAsync<TResult>(Func<RdevClient, Task<TResult>> call) =>
        await call(clients.Create(await user.KeyAsync()));
}

/// <summary>The body of <c>POST /api/v1/projects/{name}/claude</c>, as far as the Run form offers it.</summary>
public sealed record ClaudeRun(string Prompt, bool? KeepOpen = null, string? Model = null, string? SessionId = null);
