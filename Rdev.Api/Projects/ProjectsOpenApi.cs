using System.Text.Json.Nodes;

namespace Rdev.Api.Projects;

/// <summary>Response examples for the projects endpoints in the OpenAPI document.</summary>
internal static class ProjectsOpenApi
{
    public static readonly JsonObject Shown = new()
    {
        ["name"] = "pantheon",
        ["status"] = ProjectStatus.Running,
        ["description"] = "Go API backend",
        ["runtime"] = ProjectRuntime.Kubernetes,
        ["pod"] = new JsonObject { ["namespace"] = "rdev", ["name"] = "claudebox-pantheon-0", ["container"] = "dev" },
        ["workspace"] = "/workspace",
        ["allowed_commands"] = new JsonArray(CommandKinds.Claude, CommandKinds.Shell, CommandKinds.Git),
        ["max_concurrent_commands"] = 5,
        ["runnable"] = true,
        ["updated_at"] = "2026-11-27T01:58:12.512345+00:00",
    };

    public static readonly JsonObject Page = new()
    {
        ["items"] = new JsonArray(Shown.DeepClone()),
        ["next_cursor"] = "cGFudGhlb24",
    };
}
