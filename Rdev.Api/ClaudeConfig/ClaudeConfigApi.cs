using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Rdev.Api.Audit;
using Rdev.Api.Execution;
using Rdev.Api.Keys;
using Rdev.Api.Kubernetes;
using Rdev.Api.Projects;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// Claude Code commands, skills and agents in a project's workspace (SPEC section 7), read and written through the
/// project's runtime (<see cref="IWorkspaceFiles"/>). Changes are serialized per item across replicas
/// (<see cref="ConfigEditLock"/>) and guarded by strong ETags (SHA-256 of the file's bytes).
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
        const string Prefix = "/api/v1/projects/{name}/claude-config/{type}";
        var read = app.MapGroup(Prefix).WithTags("Claude Code configuration").RequireAuthorization(Scopes.ConfigRead)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        var write = app.MapGroup(Prefix).WithTags("Claude Code configuration").RequireAuthorization(Scopes.ConfigWrite)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        read.MapGet("", ListItems)
            .WithName("ListClaudeConfigItems")
            .WithSummary("List a project's commands, skills or agents")
            .WithDescription("`type` is `commands`, `skills` or `agents`. Items are sorted by name; pass `next_cursor` as " +
                "`cursor` for the next page. A workspace without the folder lists nothing.");
        read.MapGet("/{item}", GetItem)
            .WithName("GetClaudeConfigItem")
            .WithSummary("Read one item: content, parsed front matter and an ETag");
        write.MapPost("", CreateItem)
            .WithValidation<CreateConfigItemRequest>()
            .WithName("CreateClaudeConfigItem")
            .WithSummary("Create an item; 409 if one of that name exists")
            .WithDescription("The content is written to a temporary file and renamed into place. Returns the item and its ETag.");
        write.MapPut("/{item}", UpdateItem)
            .WithValidation<UpdateConfigItemRequest>()
            .WithName("UpdateClaudeConfigItem")
            .WithSummary("Replace an item's content; requires If-Match")
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
            return ConfigProblems.TypeNotFound();
        }

        if (limit is < 1 or > MaxPageSize)
        {
            return ValidationProblems.For("limit", $"limit must be between 1 and {MaxPageSize}.");
        }

        if (cursor is not null && !ItemNames.IsValid(cursor))
        {
            return ValidationProblems.For("cursor", "cursor is not a value this API returned as next_cursor.");
        }

        if (Resolve(name, services) is not { } target)
        {
            return Unreachable(name, services);
        }

        IReadOnlyList<WorkspaceEntry> entries;
        try
        {
            entries = await services.Files.ListAsync(target, configType, services.Context.RequestAborted);
        }
        catch (Exception e) when (ConfigProblems.From(e, name) is { } problem)
        {
            return problem;
        }

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
            return ConfigProblems.TypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return ValidationProblems.For("item", "The item name " + ItemNames.Rule);
        }

        if (Resolve(name, services) is not { } target)
        {
            return Unreachable(name, services);
        }

        try
        {
            var file = await services.Files.ReadAsync(target, configType.Locate(item), ItemContent.MaxBytes, services.Context.RequestAborted);
            if (file is null)
            {
                return ConfigProblems.ItemNotFound(configType, item);
            }

            if (file.Truncated)
            {
                return ConfigProblems.TooLarge(configType, item);
            }

            return Respond(configType, item, file.Content, file.ModifiedAt, services.Context);
        }
        catch (Exception e) when (ConfigProblems.From(e, name) is { } problem)
        {
            return problem;
        }
    }

    public static async Task<Results<Created<ConfigItem>, ValidationProblem, ProblemHttpResult>> CreateItem(
        string name, string type, CreateConfigItemRequest request, [AsParameters] ClaudeConfigServices services)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return ConfigProblems.TypeNotFound();
        }

        if (Resolve(name, services) is not { } target)
        {
            return Unreachable(name, services);
        }

        var item = request.Name!;
        var location = configType.Locate(item);
        var content = Encoding.UTF8.GetBytes(request.Content!);
        DateTimeOffset? modified;
        try
        {
            await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
            if (await services.Files.ReadAsync(target, location, maxBytes: 0, services.Context.RequestAborted) is not null)
            {
                return ConfigProblems.AlreadyExists(configType, item);
            }

            modified = await ChangeAsync(edit, AuditCreated, configType, item, services, target,
                () => services.Files.WriteAsync(target, location, content, CancellationToken.None));
        }
        catch (Exception e) when (ConfigProblems.From(e, name) is { } problem)
        {
            return problem;
        }

        var created = Respond(configType, item, content, modified ?? DateTimeOffset.UtcNow, services.Context);
        return TypedResults.Created($"/api/v1/projects/{name}/claude-config/{configType.Name}/{item}", created.Value);
    }

    public static async Task<Results<Ok<ConfigItem>, ValidationProblem, ProblemHttpResult>> UpdateItem(
        string name, string type, string item, UpdateConfigItemRequest request, [AsParameters] ClaudeConfigServices services,
        [FromHeader(Name = "If-Match")] string? ifMatch)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return ConfigProblems.TypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return ValidationProblems.For("item", "The item name " + ItemNames.Rule);
        }

        if (ifMatch is null)
        {
            return ConfigProblems.PreconditionRequired();
        }

        if (ParseIfMatch(ifMatch) is not { } expected)
        {
            return ValidationProblems.For("If-Match", "If-Match must be * or a list of quoted ETags.");
        }

        if (Resolve(name, services) is not { } target)
        {
            return Unreachable(name, services);
        }

        var location = configType.Locate(item);
        var content = Encoding.UTF8.GetBytes(request.Content!);
        DateTimeOffset? modified;
        try
        {
            await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
            var current = await services.Files.ReadAsync(target, location, ItemContent.MaxBytes, services.Context.RequestAborted);
            if (current is null)
            {
                return ConfigProblems.ItemNotFound(configType, item);
            }

            if (!Matches(expected, current))
            {
                return ConfigProblems.PreconditionFailed(configType, item);
            }

            modified = await ChangeAsync(edit, AuditUpdated, configType, item, services, target,
                () => services.Files.WriteAsync(target, location, content, CancellationToken.None));
        }
        catch (Exception e) when (ConfigProblems.From(e, name) is { } problem)
        {
            return problem;
        }

        return Respond(configType, item, content, modified ?? DateTimeOffset.UtcNow, services.Context);
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteItem(
        string name, string type, string item, [AsParameters] ClaudeConfigServices services,
        [FromHeader(Name = "If-Match")] string? ifMatch)
    {
        if (ConfigType.Find(type) is not { } configType)
        {
            return ConfigProblems.TypeNotFound();
        }

        if (!ItemNames.IsValid(item))
        {
            return ValidationProblems.For("item", "The item name " + ItemNames.Rule);
        }

        var expected = ifMatch is null ? null : ParseIfMatch(ifMatch);
        if (ifMatch is not null && expected is null)
        {
            return ValidationProblems.For("If-Match", "If-Match must be * or a list of quoted ETags.");
        }

        if (Resolve(name, services) is not { } target)
        {
            return Unreachable(name, services);
        }

        var location = configType.Locate(item);
        try
        {
            await using var edit = await ConfigEditLock.AcquireAsync(services.DataSource, name, configType, item, services.Context.RequestAborted);
            var current = await services.Files.ReadAsync(target, location, expected is null ? 0 : ItemContent.MaxBytes, services.Context.RequestAborted);
            if (current is null)
            {
                return ConfigProblems.ItemNotFound(configType, item);
            }

            if (expected is not null && !Matches(expected, current))
            {
                return ConfigProblems.PreconditionFailed(configType, item);
            }

            var deleted = await ChangeAsync(edit, AuditDeleted, configType, item, services, target,
                () => services.Files.DeleteAsync(target, location, CancellationToken.None));
            return deleted ? TypedResults.NoContent() : ConfigProblems.ItemNotFound(configType, item);
        }
        catch (Exception e) when (ConfigProblems.From(e, name) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>A strong ETag: the SHA-256 of the file's bytes.</summary>
    public static string ETag(ReadOnlySpan<byte> content) => $"\"{Convert.ToHexStringLower(SHA256.HashData(content))}\"";

    /// <summary>
    /// Audits, then changes the file, then commits: the change and its audit entry stand or fall together (short of
    /// the commit itself failing after the file changed). The change is not cancelled by the client going away, so
    /// it is never abandoned halfway between the pod and the database.
    /// </summary>
    private static async Task<T> ChangeAsync<T>(
        ConfigEditLock edit, string action, ConfigType type, string item, ClaudeConfigServices services, RunTarget target,
        Func<Task<T>> change)
    {
        var context = services.Context;
        await services.Audit.WriteAsync(edit.Connection, action, context.User.GetKeyId(), target.Project, context.Connection.RemoteIpAddress,
            new { type = type.Name, item }, CancellationToken.None);
        var result = await change();
        await edit.CommitAsync(CancellationToken.None);
        return result;
    }

    private static Ok<ConfigItem> Respond(ConfigType type, string item, byte[] content, DateTimeOffset modified, HttpContext context)
    {
        var text = Encoding.UTF8.GetString(content);
        context.Response.Headers.ETag = ETag(content);
        return TypedResults.Ok(new ConfigItem(item, type.Name, text, FrontMatter.Parse(text).Values, content.Length, modified));
    }

    /// <summary>The entity tags of an If-Match header; null when it does not parse.</summary>
    private static IList<EntityTagHeaderValue>? ParseIfMatch(string header) =>
        EntityTagHeaderValue.TryParseStrictList([header], out var tags) && tags.Count > 0 ? tags : null;

    /// <summary>Strong comparison (RFC 9110 13.1.1): a weak tag never matches; <c>*</c> matches any existing item.</summary>
    private static bool Matches(IList<EntityTagHeaderValue> expected, WorkspaceFile current)
    {
        if (expected.Any(tag => tag.Equals(EntityTagHeaderValue.Any)))
        {
            return true;
        }

        // A file too large to read whole has no ETag this API handed out.
        var etag = current.Truncated ? null : ETag(current.Content);
        return etag is not null && expected.Any(tag => !tag.IsWeak && tag.Tag.Equals(etag, StringComparison.Ordinal));
    }

    /// <summary>Where the project's items live, or null when this key may not see it or it cannot be used now.</summary>
    private static RunTarget? Resolve(string name, ClaudeConfigServices services)
    {
        if (!services.Context.User.CanAccessProject(name) || !services.Projects.TryGet(name, out var project) || project.IsGone
            || !project.Runnable || services.Circuit is { State: KubernetesCircuitState.Open })
        {
            return null;
        }

        return new RunTarget(name, project.Workspace, project.Pod?.Namespace, project.Pod?.Name, project.Pod?.Container);
    }

    /// <summary>Why <see cref="Resolve"/> gave no target.</summary>
    private static ProblemHttpResult Unreachable(string name, ClaudeConfigServices services)
    {
        if (!services.Context.User.CanAccessProject(name) || !services.Projects.TryGet(name, out var project) || project.IsGone)
        {
            return ConfigProblems.ProjectNotFound(name);
        }

        return project.Runnable
            ? ConfigProblems.KubernetesUnavailable("The Kubernetes API is failing; rdev stops calling it for a while.")
            : ConfigProblems.ProjectUnavailable(name, $"its workspace cannot be reached now (status '{project.Status}').");
    }
}

/// <summary>The services configuration handlers share.</summary>
public sealed record ClaudeConfigServices(
    ProjectRegistry Projects,
    IWorkspaceFiles Files,
    NpgsqlDataSource DataSource,
    AuditLog Audit,
    HttpContext Context)
{
    /// <summary>The Kubernetes exec circuit; null on the local runtime.</summary>
    public KubernetesCircuit? Circuit => Context.RequestServices.GetService<KubernetesCircuit>();
}
