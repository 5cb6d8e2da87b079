using System.Text.Json.Nodes;

namespace Rdev.Api.Commands;

/// <summary>Request and response examples for the commands endpoints in the OpenAPI document.</summary>
internal static class CommandsOpenApi
{
    public static readonly JsonObject Claude = new()
    {
        ["prompt"] = "Fix the failing test in ./api and explain the change",
        ["session_id"] = "0f8fad5b-d9cb-469f-a165-70867728950e",
        ["model"] = "sonnet",
        ["max_turns"] = 10,
        ["permission_mode"] = "acceptEdits",
        ["allowed_tools"] = new JsonArray("Read", "Edit", "Bash(go test:*)"),
        ["timeout_seconds"] = 900,
    };

    public static readonly JsonObject Git = new() { ["args"] = new JsonArray("status", "--short") };

    public static readonly JsonObject Shell = new() { ["command"] = "make test", ["timeout_seconds"] = 600 };

    public static readonly JsonObject Record = new()
    {
        ["id"] = "019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90",
        ["project"] = "pantheon",
        ["kind"] = "claude",
        ["args"] = Claude.DeepClone(),
        ["status"] = "succeeded",
        ["exit_code"] = 0,
        ["created_at"] = "2026-11-27T09:30:00.120+00:00",
        ["started_at"] = "2026-11-27T09:30:00.180+00:00",
        ["finished_at"] = "2026-11-27T09:31:42.007+00:00",
        ["key_id"] = "a1b2c3d4e5f6",
        ["timeout_seconds"] = 900,
        ["output_bytes"] = 48213,
        ["truncated"] = false,
        ["error"] = null,
        ["session_id"] = "0f8fad5b-d9cb-469f-a165-70867728950e",
        ["total_cost_usd"] = 0.0842,
        ["num_turns"] = 7,
        ["result"] = "The test expected UTC; the handler now converts before comparing.",
        ["is_error"] = false,
        ["stream_url"] = "/api/v1/commands/019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90/stream",
    };

    public static readonly JsonObject Queued = Queue(Record);

    public static readonly JsonObject Page = new()
    {
        ["items"] = new JsonArray(Record.DeepClone()),
        ["next_cursor"] = "019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90",
    };

    private static JsonObject Queue(JsonObject record)
    {
        var queued = record.DeepClone().AsObject();
        foreach (var name in new[] { "exit_code", "started_at", "finished_at", "session_id", "total_cost_usd", "num_turns", "result", "is_error" })
        {
            queued[name] = null;
        }

        queued["status"] = "queued";
        queued["output_bytes"] = 0;
        return queued;
    }

    public const string Output = "On branch main\nnothing to commit, working tree clean\n";

    public const string Events = """
        id: 1
        event: status
        data: {"status":"running"}

        id: 2
        event: output
        data: {"stream":"stdout","data":"On branch main\n"}

        id: 3
        event: status
        data: {"status":"succeeded","exit_code":0}


        """;

    /// <summary>The problems of starting a command beyond the project's 404 and the key's 401/403/429.</summary>
    public static RouteHandlerBuilder ProducesRunProblems(this RouteHandlerBuilder builder) =>
        builder.ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}
