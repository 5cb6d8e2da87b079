using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Rdev.Api.Audit;
using Rdev.Api.Execution;
using Rdev.Api.Keys;
using Rdev.Api.Projects;

namespace Rdev.Api.ClaudeConfig;

/// <summary>The services configuration handlers share, and the project checks every handler makes.</summary>
public sealed record ClaudeConfigServices(
    [FromServices] ProjectRegistry Projects,
    [FromServices] IWorkspaceFiles Files,
    [FromServices] IRuntimeStatus Runtime,
    [FromServices] NpgsqlDataSource DataSource,
    [FromServices] AuditLog Audit,
    HttpContext Context)
{
    /// <summary>
    /// Where the project's items live; otherwise why not: 404 when this key may not see the project (or it is gone),
    /// 409 when it cannot be reached now, 503 while the runtime refuses calls.
    /// </summary>
    public bool TryResolve(string name, [NotNullWhen(true)] out RunTarget? target, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        target = null;
        if (!Context.User.CanAccessProject(name) || !Projects.TryGet(name, out var project) || project.IsGone)
        {
            problem = Problems.ProjectNotFound(name);
            return false;
        }

        if (!project.Runnable)
        {
            problem = Problems.ProjectNotRunnable(name, project.Status);
            return false;
        }

        if (Runtime.Refusal is { } refusal)
        {
            problem = Problems.RuntimeUnavailable(refusal, name);
            return false;
        }

        problem = null;
        target = new RunTarget(name, project.Workspace, project.Pod?.Namespace, project.Pod?.Name, project.Pod?.Container);
        return true;
    }

    /// <summary>
    /// Audits, then changes the file, then commits: the change and its audit entry stand or fall together (short of
    /// the commit itself failing after the file changed). Neither is cancelled by the client going away, so a change
    /// is never abandoned halfway between the pod and the database.
    /// </summary>
    public async Task<T> ChangeAsync<T>(ConfigEditLock edit, string action, ConfigType type, string item, RunTarget target, Func<Task<T>> change)
    {
        await Audit.WriteAsync(edit.Connection, action, Context.User.GetKeyId(), target.Project, Context.Connection.RemoteIpAddress,
            new { type = type.Name, item }, CancellationToken.None);
        var result = await change();
        await edit.CommitAsync(CancellationToken.None);
        return result;
    }
}
