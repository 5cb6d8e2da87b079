using System.Text.Json.Nodes;

namespace Rdev.Api.ClaudeConfig;

/// <summary>Request and response examples for the Claude Code configuration endpoints in the OpenAPI document.</summary>
internal static class ClaudeConfigOpenApi
{
    private const string Content =
        "---\ndescription: Review the staged changes\nallowed-tools: Bash(git diff:*), Read\n---\n\nReview `git diff --staged` and list risky changes.\n";

    public static readonly JsonObject Create = new() { ["name"] = "review", ["content"] = Content };

    public static readonly JsonObject Update = new() { ["content"] = Content };

    public static readonly JsonObject Item = new()
    {
        ["name"] = "review",
        ["type"] = "commands",
        ["content"] = Content,
        ["front_matter"] = new JsonObject
        {
            ["description"] = "Review the staged changes",
            ["allowed-tools"] = "Bash(git diff:*), Read",
        },
        ["size"] = 143,
        ["modified_at"] = "2026-11-27T09:30:00+00:00",
    };

    public static readonly JsonObject Page = new()
    {
        ["items"] = new JsonArray(new JsonObject
        {
            ["name"] = "review",
            ["description"] = "Review the staged changes",
            ["size"] = 143,
            ["modified_at"] = "2026-11-27T09:30:00+00:00",
        }),
        ["next_cursor"] = null,
    };
}
