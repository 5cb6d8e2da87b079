using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rdev.Api.Commands;
using Rdev.Api.Keys;
using Rdev.Api.Streaming;

namespace Rdev.Api.Sessions;

/// <summary>
/// Remote control of a running Claude session (SPEC sections 4 and 7a): its tool-permission approvals, follow-up
/// messages, interrupt and close; and the watch-all feed of command lifecycle events. Any replica takes these
/// requests; the one running the session learns of them through Postgres.
/// </summary>
public static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var command = app.MapGroup("/api/v1/commands/{id:guid}").WithTags("Claude sessions")
            .ProducesProblem(StatusCodes.Status404NotFound);
        command.MapGet("/approvals", ListApprovals).RequireAuthorization(Scopes.CommandsRead)
            .WithName(nameof(ListApprovals))
            .WithSummary("The tool-permission requests of a Claude command")
            .WithExamples(null, "200", SessionsOpenApi.Approvals);
        command.MapPost("/approvals/{approvalId:guid}", Decide).RequireAuthorization(Scopes.CommandsApprove)
            .AddEndpointFilter<ValidationFilter<ApprovalDecision>>()
            .WithName("DecideApproval")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Allow or deny a pending tool use; the answer goes to the CLI")
            .WithExamples(SessionsOpenApi.Decision, "200", SessionsOpenApi.Decided);
        command.MapPost("/messages", SendMessage).RequireAuthorization(Scopes.CommandsRun)
            .AddEndpointFilter<ValidationFilter<SessionMessage>>()
            .WithName(nameof(SendMessage))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Queue a follow-up user message; sent in order, one turn at a time")
            .WithExamples(SessionsOpenApi.Message, "202", SessionsOpenApi.Accepted);
        command.MapPost("/interrupt", Interrupt).RequireAuthorization(Scopes.CommandsRun)
            .WithName("InterruptSession")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Stop the current turn; the session stays")
            .WithExamples(null, "202", SessionsOpenApi.Accepted);
        command.MapPost("/close", Close).RequireAuthorization(Scopes.CommandsRun)
            .WithName("CloseSession")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("End the session after its current turn")
            .WithExamples(null, "202", SessionsOpenApi.Accepted);

        app.MapGet("/api/v1/events", Feed).WithTags("Claude sessions").RequireAuthorization(Scopes.CommandsRead)
            .WithName("StreamEvents")
            .WithSummary("Server-Sent Events: every command's lifecycle that this key may see")
            .WithDescription("`command` events with global, strictly increasing ids; reconnect with `Last-Event-ID` to " +
                "replay what was missed (kept at least 7 days). `?project=` filters.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesValidationProblem()
            .WithTextExample("text/event-stream", SessionsOpenApi.Feed);
        return app;
    }

    public static async Task<Results<Ok<ApprovalList>, ProblemHttpResult>> ListApprovals(
        Guid id, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken ct)
    {
        if (await services.FindAsync(id, user, ct) is null)
        {
            return Problems.CommandNotFound(id);
        }

        return TypedResults.Ok(new ApprovalList(await services.Sessions.ListApprovalsAsync(id, ct)));
    }

    public static async Task<Results<Ok<ApprovalRecord>, ProblemHttpResult>> Decide(
        Guid id, Guid approvalId, ApprovalDecision decision, ClaimsPrincipal user, [AsParameters] SessionServices services,
        CancellationToken ct)
    {
        if (await services.FindAsync(id, user, ct) is not { } command)
        {
            return Problems.CommandNotFound(id);
        }

        var status = decision.Decision == "allow" ? ApprovalStatuses.Allowed : ApprovalStatuses.Denied;
        var (record, decided) = await services.Sessions.DecideAsync(id, approvalId, status, user.GetKeyId() ?? "",
            decision.Message, decision.UpdatedInput, command.Project, services.HttpContext.Connection.RemoteIpAddress, ct);
        return (record, decided) switch
        {
            (null, _) => Problems.ApprovalNotFound(approvalId),
            (_, false) => Problems.Conflict(record.Status == ApprovalStatuses.Pending
                ? "The approval has expired, or its session has ended." : $"The approval was already decided: {record.Status}."),
            _ => TypedResults.Ok(record),
        };
    }

    public static async Task<Results<Accepted<SessionAccepted>, ProblemHttpResult>> SendMessage(
        Guid id, SessionMessage message, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken ct)
    {
        if (await services.FindSessionAsync(id, user, ct) is not { } command)
        {
            return await services.SessionProblemAsync(id, user, ct);
        }

        await services.Sessions.AddMessageAsync(id, message.Text, user.GetKeyId() ?? "", command.Project,
            services.HttpContext.Connection.RemoteIpAddress, ct);
        return TypedResults.Accepted($"/api/v1/commands/{id}", new SessionAccepted(id, command.Status));
    }

    public static Task<Results<Accepted<SessionAccepted>, ProblemHttpResult>> Interrupt(
        Guid id, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken ct) =>
        RequestAsync(id, SessionActions.Interrupt, user, services, ct);

    public static Task<Results<Accepted<SessionAccepted>, ProblemHttpResult>> Close(
        Guid id, ClaimsPrincipal user, [AsParameters] SessionServices services, CancellationToken ct) =>
        RequestAsync(id, SessionActions.Close, user, services, ct);

    public static Results<FeedEventStream, ValidationProblem> Feed(
        ClaimsPrincipal user, HttpRequest request, [FromQuery] string? project = null,
        [FromQuery(Name = "last_event_id")] string? lastEventIdQuery = null)
    {
        var lastEventId = request.Headers["Last-Event-ID"].FirstOrDefault() ?? lastEventIdQuery;
        long after = 0;
        if (!string.IsNullOrEmpty(lastEventId) && (!long.TryParse(lastEventId, out after) || after < 0))
        {
            return Problems.Validation("last_event_id", "Last-Event-ID must be an event id from this stream.");
        }

        var projects = user.FindAll(KeyClaims.Project).Select(c => c.Value).ToArray();
        return new FeedEventStream(after, projects, project);
    }

    private static async Task<Results<Accepted<SessionAccepted>, ProblemHttpResult>> RequestAsync(
        Guid id, string action, ClaimsPrincipal user, SessionServices services, CancellationToken ct)
    {
        if (await services.FindSessionAsync(id, user, ct) is not { } command)
        {
            return await services.SessionProblemAsync(id, user, ct);
        }

        await services.Sessions.RequestAsync(id, action, ct);
        return TypedResults.Accepted($"/api/v1/commands/{id}", new SessionAccepted(id, command.Status));
    }
}

/// <summary>The services the session handlers share.</summary>
public sealed record SessionServices([FromServices] CommandStore Commands, [FromServices] SessionStore Sessions, HttpContext HttpContext)
{
    public async Task<CommandRecord?> FindAsync(Guid id, ClaimsPrincipal user, CancellationToken ct) =>
        await Commands.GetAsync(id, ct) is { } command && user.CanAccessProject(command.Project) ? command : null;

    /// <summary>The command when it is an unfinished Claude command this key may see.</summary>
    public async Task<CommandRecord?> FindSessionAsync(Guid id, ClaimsPrincipal user, CancellationToken ct) =>
        await FindAsync(id, user, ct) is { Kind: CommandKinds.Claude } command && !CommandStatuses.IsFinal(command.Status)
            ? command : null;

    public async Task<ProblemHttpResult> SessionProblemAsync(Guid id, ClaimsPrincipal user, CancellationToken ct) =>
        await FindAsync(id, user, ct) switch
        {
            null => Problems.CommandNotFound(id),
            { Kind: not CommandKinds.Claude } => Problems.Conflict("Only a Claude command is a session."),
            var command => Problems.Conflict($"The session already ended with status '{command.Status}'."),
        };
}
