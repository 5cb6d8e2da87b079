using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rdev.Api.Keys;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// Claude Code commands, skills and agents in a project's workspace (SPEC section 7), read and written through the
/// project's runtime (<see cref="Execution.IWorkspaceFiles"/>). Changes are serialized per item across replicas
/// (<see cref="ConfigEditLock"/>) and guarded by strong ETags (SHA-256 of the file's bytes). An unreachable workspace,
/// an unsafe path or a busy item are exceptions that <see cref="ExpectedExceptionHandler"/> answers.
/// </summary>
public static class ClaudeConfigApi
{
    public const string AuditCreated = "config.created";
    public const string AuditUpdated = "config.updated";
    public const string AuditDeleted = "config.deleted";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static IEndpointRouteBuilder MapClaudeConfigApi(this IEndpointRouteBuilder app)
    {
        const string prefix = "/api/v1/projects/{name}/claude-config/{type}";
        var read = app.MapGroup(prefix).WithTags("Claude Code configuration").RequireAuthorization(Scopes.ConfigRead)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        var write = app.MapGroup(prefix).WithTags("Claude Code configuration").RequireAuthorization(Scopes.ConfigWrite)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        read.MapGet("", ListItems)
            .WithName("ListClaudeConfigItems")
            .WithSummary("List a project's commands, skills or agents")
            .WithExamples(null, "200", ClaudeConfigOpenApi.Page)
            .WithDescription("`type` is `commands`, `skills` or `agents`. Items are sorted by name; pass `next_cursor` as " +
                "`cursor` for the next page. A workspace without the folder lists nothing.");
        read.MapGet("/{item}", GetItem)
            .WithName("GetClaudeConfigItem")
            .WithSummary("Read one item: content, parsed front matter and an ETag")
            .WithExamples(null, "200", ClaudeConfigOpenApi.Item);
        write.MapPost("", CreateItem)
            .WithValidation<CreateConfigItemRequest>()
            .WithName("CreateClaudeConfigItem")
            .WithSummary("Create an item; 409 if one of that name exists")
            .WithExamples(ClaudeConfigOpenApi.Create, "201", ClaudeConfigOpenApi.Item)
            .WithDescription("The content is written to a temporary file and renamed into place. Returns the item and its ETag.");
        write.MapPut("/{item}", UpdateItem)
            .WithValidation<UpdateConfigItemRequest>()
            .WithName("UpdateClaudeConfigItem")
            .WithSummary("Replace an item's content; requires If-Match")
            .WithExamples(ClaudeConfigOpenApi.Update, "200", ClaudeConfigOpenApi.Item)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .WithDescription("`If-Match` must carry the ETag from the last read (412 when the item changed since) or `*`; " +
                "without it the answer is 428.");
        write.MapDelete("/{item}", DeleteItem)
            .WithName("DeleteClaudeConfigItem")
            .WithSummary("Delete an item (a skill's whole folder); honours If-Match")
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
        return app;
    }

    public static async Task<Results<Ok<ConfigItemPage>, ValidationProblem, ProblemHttpResult>> ListItems(
        string name, string type, [AsParameters] ClaudeConfigServices services, string? cursor = null, int? limit = null)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return Problems.ConfigTypeNotFound();
        }

        if (limit is < 1 or > MaxPageSize)
        {
            return Problems.Validation("limit", $"limit must be between 1 and {MaxPageSize}.");
        }

        if (cursor is not null && !ItemNames.IsValid(cursor))
        {
            return Problems.Validation("cursor", "cursor is not a value this API returned as next_cursor.");
        }

        if (!services.TryResolve(name, out var target, out var unreachable))
        {
            return unreachable;
        }

        var entries = await services.Files.ListAsync(target, configType, services.Context.RequestAborted);

        var pageSize = limit ?? DefaultPageSize;
        var page = entries
            .Where(entry => ItemNames.IsValid(entry.Name) && (cursor is null || string.CompareOrdinal(entry.Name, cursor) > 0))
            .OrderBy(entry => entry.Name, StringComparer.Ordinal)
            .Take(pageSize + 1)
            .Select(entry => new ConfigItemSummary(entry.Name, FrontMatter.Description(entry.Head), entry.Size, entry.ModifiedAt))
            .ToList();
        var next = page.Count > pageSize ? page[pageSize - 1].Name : null;
        return TypedResults.Ok(new ConfigItemPage(page.Take(pageSize).ToList(), next));
    }

    public static async Task<Results<Ok<ConfigItem>, ValidationProblem, ProblemHttpResult>> GetItem(
        string name, string type, string item, [AsParameters] ClaudeConfigServices services)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return Problems.ConfigTypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return Problems.Validation("item", "The item name " + ItemNames.Rule);
        }

        if (!services.TryResolve(name, out var target, out var unreachable))
        {
            return unreachable;
        }

        var file = await services.Files.ReadAsync(target, configType.Locate(item), ItemContent.MaxBytes, services.Context.RequestAborted);
        if (file is null)
        {
            return Problems.ItemNotFound(configType.Name, item);
        }

        if (file.Truncated)
        {
            return Problems.ItemTooLarge(configType.Name, item, ItemContent.MaxBytes);
        }

        return Respond(configType, item, file.Content, file.ModifiedAt, services.Context);
    }

    public static async Task<Results<Created<ConfigItem>, ValidationProblem, ProblemHttpResult>> CreateItem(
        string name, string type, CreateConfigItemRequest request, [AsParameters] ClaudeConfigServices services)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return Problems.ConfigTypeNotFound();
        }

        if (!services.TryResolve(name, out var target, out var unreachable))
        {
            return unreachable;
        }

        var item = request.Name!;
        var location = configType.Locate(item);
        var content = Encoding.UTF8.GetBytes(request.Content!);
        await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
        if (await services.Files.ReadAsync(target, location, maxBytes: 0, services.Context.RequestAborted) is not null)
        {
            return Problems.ItemExists(configType.Name, item);
        }

        var modified = await services.ChangeAsync(edit, AuditCreated, configType, item, target,
            () => services.Files.WriteAsync(target, location, content, CancellationToken.None));
        var created = Respond(configType, item, content, modified ?? DateTimeOffset.UtcNow, services.Context);
        return TypedResults.Created($"/api/v1/projects/{name}/claude-config/{configType.Name}/{item}", created.Value);
    }

    public static async Task<Results<Ok<ConfigItem>, ValidationProblem, ProblemHttpResult>> UpdateItem(
        string name, string type, string item, UpdateConfigItemRequest request, [AsParameters] ClaudeConfigServices services,
        [FromHeader(Name = "If-Match")] string? ifMatch)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return Problems.ConfigTypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return Problems.Validation("item", "The item name " + ItemNames.Rule);
        }

        if (ifMatch is null)
        {
            return Problems.PreconditionRequired();
        }

        if (ItemETags.ParseIfMatch(ifMatch) is not { } expected)
        {
            return Problems.Validation("If-Match", "If-Match must be * or a list of quoted ETags.");
        }

        if (!services.TryResolve(name, out var target, out var unreachable))
        {
            return unreachable;
        }

        var location = configType.Locate(item);
        var content = Encoding.UTF8.GetBytes(request.Content!);
        await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
        var current = await services.Files.ReadAsync(target, location, ItemContent.MaxBytes, services.Context.RequestAborted);
        if (current is null)
        {
            return Problems.ItemNotFound(configType.Name, item);
        }

        if (!ItemETags.Matches(expected, current))
        {
            return Problems.PreconditionFailed(configType.Name, item);
        }

        var modified = await services.ChangeAsync(edit, AuditUpdated, configType, item, target,
            () => services.Files.WriteAsync(target, location, content, CancellationToken.None));
        return Respond(configType, item, content, modified ?? DateTimeOffset.UtcNow, services.Context);
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteItem(
        string name, string type, string item, [AsParameters] ClaudeConfigServices services,
        [FromHeader(Name = "If-Match")] string? ifMatch)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return Problems.ConfigTypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return Problems.Validation("item", "The item name " + ItemNames.Rule);
        }

        var expected = ifMatch is null ? null : ItemETags.ParseIfMatch(ifMatch);
        if (ifMatch is not null && expected is null)
        {
            return Problems.Validation("If-Match", "If-Match must be * or a list of quoted ETags.");
        }

        if (!services.TryResolve(name, out var target, out var unreachable))
        {
            return unreachable;
        }

        var location = configType.Locate(item);
        await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
        var current = await services.Files.ReadAsync(target, location, expected is null ? 0 : ItemContent.MaxBytes, services.Context.RequestAborted);
        if (current is null)
        {
            return Problems.ItemNotFound(configType.Name, item);
        }

        if (expected is not null && !ItemETags.Matches(expected, current))
        {
            return Problems.PreconditionFailed(configType.Name, item);
        }

        var deleted = await services.ChangeAsync(edit, AuditDeleted, configType, item, target,
            () => services.Files.DeleteAsync(target, location, CancellationToken.None));
        return deleted ? TypedResults.NoContent() : Problems.ItemNotFound(configType.Name, item);
    }

    private static Ok<ConfigItem> Respond(ConfigType type, string item, byte[] content, DateTimeOffset modified, HttpContext context)
    {
        var text = Encoding.UTF8.GetString(content);
        context.Response.Headers.ETag = ItemETags.Of(content);
        return TypedResults.Ok(new ConfigItem(item, type.Name, text, FrontMatter.Parse(text).Values, content.Length, modified));
    }
}
