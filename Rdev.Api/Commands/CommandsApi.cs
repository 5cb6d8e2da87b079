using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Rdev.Api.Execution;
using Rdev.Api.Keys;
using Rdev.Api.Projects;
using Rdev.Api.Streaming;

namespace Rdev.Api.Commands;

public static class CommandsApi
{
    public static IEndpointRouteBuilder MapCommandsApi(this IEndpointRouteBuilder app)
    {
        // Every run answers 400 (body), 404 (project), 403 (kind not allowed), 409 (project unavailable), 429 (also
        // COMMAND_LIMIT_REACHED) and 503 (Kubernetes unavailable); 401 and the scope's 403 come from OpenApiSecurity.
        var projects = app.MapGroup("/api/v1/projects/{name}").WithTags("Commands")
            .ProducesProblem(StatusCodes.Status404NotFound);
        projects.MapPost("/claude", RunClaude)
            .RequireAuthorization(Scopes.CommandsRun)
            .AddEndpointFilter<ValidationFilter<ClaudeRequest>>()
            .WithName(nameof(RunClaude))
            .WithSummary("Run a Claude Code prompt in the project's workspace")
            .ProducesRunProblems()
            .WithExamples(CommandsOpenApi.Claude, "202", CommandsOpenApi.Queued);
        projects.MapPost("/git", RunGit)
            .RequireAuthorization(Scopes.CommandsRun)
            .AddEndpointFilter<ValidationFilter<GitRequest>>()
            .WithName(nameof(RunGit))
            .WithSummary("Run an allow-listed git command in the project's workspace")
            .ProducesRunProblems()
            .WithExamples(CommandsOpenApi.Git, "202", CommandsOpenApi.Queued);
        projects.MapPost("/shell", RunShell)
            .RequireAuthorization(Scopes.CommandsShell)
            .AddEndpointFilter<ValidationFilter<ShellRequest>>()
            .WithName(nameof(RunShell))
            .WithSummary("Run sh -c <command> in the project's workspace")
            .ProducesRunProblems()
            .WithExamples(CommandsOpenApi.Shell, "202", CommandsOpenApi.Queued);
        projects.MapGet("/commands", ListCommands)
            .RequireAuthorization(Scopes.CommandsRead)
            .WithName(nameof(ListCommands))
            .WithSummary("The project's commands, newest first")
            .ProducesValidationProblem()
            .WithExamples(null, "200", CommandsOpenApi.Page);

        var commands = app.MapGroup("/api/v1/commands/{id:guid}").WithTags("Commands")
            .ProducesProblem(StatusCodes.Status404NotFound);
        commands.MapGet("", GetCommand).RequireAuthorization(Scopes.CommandsRead)
            .WithName(nameof(GetCommand))
            .WithSummary("One command")
            .WithExamples(null, "200", CommandsOpenApi.Record);
        commands.MapGet("/output", GetOutput).RequireAuthorization(Scopes.CommandsRead)
            .WithName("GetCommandOutput")
            .WithSummary("The whole stored output as text")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithTextExample("text/plain", CommandsOpenApi.Output);
        commands.MapGet("/stream", Stream).RequireAuthorization(Scopes.CommandsRead)
            .WithName("StreamCommand")
            .WithSummary("Server-Sent Events: replay after Last-Event-ID, then live")
            .WithDescription("Events `output`, `claude`, `status`, `approval` and `message`, each with `id:` = the " +
                "command's event sequence number. Reconnect with `Last-Event-ID` (or `?last_event_id=`) to resume; the " +
                "stream ends after the final `status` event.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesValidationProblem()
            .WithTextExample("text/event-stream", CommandsOpenApi.Events);
        commands.MapPost("/cancel", Cancel).RequireAuthorization(Scopes.CommandsRun)
            .WithName("CancelCommand")
            .WithSummary("Stop the command: SIGTERM to its process group, SIGKILL after a grace period")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExamples(null, "202", CommandsOpenApi.Queued);
        return app;
    }

    public static Task<Results<Accepted<CommandRecord>, ProblemHttpResult>> RunClaude(
        string name, ClaudeRequest request, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct) =>
        StartAsync(name, CommandKinds.Claude, request,
            CommandLines.Claude(request, services.Options.Value.ClaudeCommand, restricted: !MayRunShell(user, name, services.Projects)),
            request.TimeoutSeconds, user, services, ct, ClaudePermissions.ShellReason(request));

    public static Task<Results<Accepted<CommandRecord>, ProblemHttpResult>> RunGit(
        string name, GitRequest request, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct) =>
        StartAsync(name, CommandKinds.Git, request, CommandLines.Git(request), request.TimeoutSeconds, user, services, ct);

    public static Task<Results<Accepted<CommandRecord>, ProblemHttpResult>> RunShell(
        string name, ShellRequest request, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct) =>
        StartAsync(name, CommandKinds.Shell, request, CommandLines.Shell(request), request.TimeoutSeconds, user, services, ct);

    public static async Task<Results<Ok<CommandPage>, ValidationProblem, ProblemHttpResult>> ListCommands(
        string name, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct,
        string? cursor = null, int limit = 50)
    {
        if (!user.CanAccessProject(name) || !services.Projects.TryGet(name, out _))
        {
            return Problems.ProjectNotFound(name);
        }

        Guid? before = null;
        if (cursor is not null)
        {
            if (!Guid.TryParse(cursor, out var parsed))
            {
                return Problems.Validation("cursor", "cursor is not a cursor returned by this API.");
            }

            before = parsed;
        }

        if (limit is < 1 or > 200)
        {
            return Problems.Validation("limit", "limit must be between 1 and 200.");
        }

        var items = await services.Store.ListAsync(name, before, limit, ct);
        return TypedResults.Ok(new CommandPage(items, items.Count == limit ? items[^1].Id.ToString() : null));
    }

    public static async Task<Results<Ok<CommandRecord>, ProblemHttpResult>> GetCommand(
        Guid id, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct) =>
        await FindAsync(id, user, services, ct) is { } command ? TypedResults.Ok(command) : Problems.CommandNotFound(id);

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> GetOutput(
        Guid id, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct)
    {
        if (await FindAsync(id, user, services, ct) is null)
        {
            return Problems.CommandNotFound(id);
        }

        return TypedResults.Stream(body => CommandOutput.WriteAsync(services.Store, id, body, ct), "text/plain; charset=utf-8");
    }

    public static async Task<Results<CommandEventStream, ValidationProblem, ProblemHttpResult>> Stream(
        Guid id, ClaimsPrincipal user, [AsParameters] CommandServices services, HttpRequest request, CancellationToken ct,
        [FromQuery(Name = "last_event_id")] string? lastEventIdQuery = null)
    {
        var lastEventId = request.Headers["Last-Event-ID"].FirstOrDefault() ?? lastEventIdQuery;
        long after = 0;
        if (!string.IsNullOrEmpty(lastEventId) && (!long.TryParse(lastEventId, out after) || after < 0))
        {
            return Problems.Validation("last_event_id", "Last-Event-ID must be an event id from this stream.");
        }

        if (await FindAsync(id, user, services, ct) is null)
        {
            return Problems.CommandNotFound(id);
        }

        return new CommandEventStream(id, after);
    }

    public static async Task<Results<Accepted<CommandRecord>, ProblemHttpResult>> Cancel(
        Guid id, ClaimsPrincipal user, [AsParameters] CommandServices services, CancellationToken ct)
    {
        if (await FindAsync(id, user, services, ct) is not { } command)
        {
            return Problems.CommandNotFound(id);
        }

        if (CommandStatuses.IsFinal(command.Status))
        {
            return Problems.Conflict($"The command already finished with status '{command.Status}'.");
        }

        // Supervised here or on another replica (which listens for this); recorded too, for a replica taking it over.
        services.Supervisor.TryCancel(id);
        await services.Store.RequestCancelAsync(id, ct);

        return TypedResults.Accepted($"/api/v1/commands/{id}", command);
    }

    private static async Task<CommandRecord?> FindAsync(Guid id, ClaimsPrincipal user, CommandServices services, CancellationToken ct)
    {
        if (await services.Store.GetAsync(id, ct) is not { } command || !user.CanAccessProject(command.Project))
        {
            return null;
        }

        Activity.Current?.SetTag("project", command.Project).SetTag("command.kind", command.Kind).SetTag("command.id", id.ToString());
        return command;
    }

    private static bool MayRunShell(ClaimsPrincipal user, string name, ProjectRegistry projects) =>
        user.HasScope(Scopes.CommandsShell) && projects.TryGet(name, out var project) && project.Allows(CommandKinds.Shell);

    private static async Task<Results<Accepted<CommandRecord>, ProblemHttpResult>> StartAsync(
        string name, string kind, object request, IReadOnlyList<string> argv, int? timeoutSeconds, ClaimsPrincipal user,
        CommandServices services, CancellationToken ct, string? shellReason = null)
    {
        if (!user.CanAccessProject(name) || !services.Projects.TryGet(name, out var project) || project.IsGone)
        {
            return Problems.ProjectNotFound(name);
        }

        if (!project.Allows(kind))
        {
            return Problems.KindNotAllowed(name, kind);
        }

        // Something that amounts to a shell (a Claude permission mode or tool) needs what /shell needs.
        if (shellReason is not null && !MayRunShell(user, name, services.Projects))
        {
            return Problems.ShellRequired(name, shellReason, user.HasScope(Scopes.CommandsShell));
        }

        if (!project.Runnable)
        {
            return Problems.ProjectNotRunnable(name, project.Status);
        }

        if (services.Runtime.Refusal is { } refusal)
        {
            return Problems.RuntimeUnavailable(refusal, name);
        }

        var command = new CommandRecord
        {
            Id = Guid.CreateVersion7(),
            Project = name,
            Kind = kind,
            Args = CommandLines.Describe(request),
            Status = CommandStatuses.Queued,
            KeyId = user.GetKeyId() ?? "",
            CreatedAt = services.Time.GetUtcNow(),
            TimeoutSeconds = timeoutSeconds ?? services.Options.Value.DefaultTimeoutSeconds,
        };
        var clientIp = services.HttpContext.Connection.RemoteIpAddress;
        var target = new RunTarget(name, project.Workspace, project.Pod?.Namespace, project.Pod?.Name, project.Pod?.Container);
        if (await services.Store.CreateAsync(command, project.MaxConcurrentCommands, services.Supervisor.RunnerId, clientIp, ct, target) is null)
        {
            return Problems.CommandLimitReached(name, project.MaxConcurrentCommands);
        }

        Activity.Current?.SetTag("project", name).SetTag("command.kind", kind).SetTag("command.id", command.Id.ToString());
        services.Supervisor.Launch(command, target, argv);
        return TypedResults.Accepted($"/api/v1/commands/{command.Id}", command);
    }
}

/// <summary>The services command handlers share.</summary>
public sealed record CommandServices(
    [FromServices] ProjectRegistry Projects,
    [FromServices] CommandStore Store,
    [FromServices] CommandSupervisor Supervisor,
    [FromServices] IRuntimeStatus Runtime,
    [FromServices] IOptions<CommandOptions> Options,
    [FromServices] TimeProvider Time,
    HttpContext HttpContext);

public sealed record CommandPage(IReadOnlyList<CommandRecord> Items, string? NextCursor);
