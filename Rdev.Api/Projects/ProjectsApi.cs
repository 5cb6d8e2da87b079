using System.Buffers.Text;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rdev.Api.Keys;

namespace Rdev.Api.Projects;

/// <summary>
/// <c>GET /api/v1/projects</c> and <c>GET /api/v1/projects/{name}</c>, answered from this replica's
/// <see cref="ProjectRegistry"/>. A key sees only its projects; any other name is 404, exactly like an unknown one.
/// </summary>
public static class ProjectsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapProjectsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/projects")
            .WithTags("Projects")
            .RequireAuthorization(Scopes.ProjectsRead);

        group.MapGet("/", ListProjects)
            .WithExamples(null, "200", ProjectsOpenApi.Page)
            .WithName(nameof(ListProjects))
            .WithSummary("List the projects this key may see")
            .WithDescription("Ordered by name, cursor-paged. Projects whose pod or folder disappeared (status gone) are " +
                "left out unless include_gone=true.");
        group.MapGet("/{name}", GetProject)
            .WithExamples(null, "200", ProjectsOpenApi.Shown)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName(nameof(GetProject))
            .WithSummary("Show one project with its status and settings")
            .WithDescription("Also answers for a gone project (status gone, runnable false). 404 NOT_FOUND when the " +
                "project is unknown or outside the key's projects.");

        return app;
    }

    public static Results<Ok<ProjectPage>, ValidationProblem> ListProjects(
        ClaimsPrincipal user,
        ProjectRegistry registry,
        [FromQuery] int? limit,
        [FromQuery] string? cursor,
        [FromQuery(Name = "include_gone")] bool? includeGone)
    {
        var pageSize = limit ?? DefaultLimit;
        if (pageSize is < 1 or > MaxLimit)
        {
            return Problems.Validation("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        string? after = null;
        if (cursor is not null && !TryDecodeCursor(cursor, out after))
        {
            return Problems.Validation("cursor", "cursor is not a next_cursor returned by this endpoint.");
        }

        var visible = registry.All
            .Where(p => after is null || string.CompareOrdinal(p.Name, after) > 0)
            .Where(p => includeGone == true || !p.IsGone)
            .Where(p => user.CanAccessProject(p.Name));
        var page = visible.Take(pageSize + 1).ToList();
        var next = page.Count > pageSize ? EncodeCursor(page[pageSize - 1].Name) : null;
        return TypedResults.Ok(new ProjectPage([.. page.Take(pageSize)], next));
    }

    public static Results<Ok<Project>, ProblemHttpResult> GetProject(string name, ClaimsPrincipal user, ProjectRegistry registry)
    {
        if (!user.CanAccessProject(name) || !registry.TryGet(name, out var project))
        {
            return Problems.ProjectNotFound(name);
        }

        return TypedResults.Ok(project);
    }

    private static string EncodeCursor(string name) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(name));

    private static bool TryDecodeCursor(string cursor, out string? name)
    {
        name = null;
        var bytes = new byte[Base64Url.GetMaxDecodedLength(cursor.Length)];
        if (cursor.Length == 0 || Base64Url.DecodeFromChars(cursor, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        name = Encoding.UTF8.GetString(bytes, 0, written);
        return name.Length > 0 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
    }
}

/// <summary>One page of projects; <c>next_cursor</c> is null on the last page.</summary>
public sealed record ProjectPage(IReadOnlyList<Project> Items, string? NextCursor);
