using System.Text.Json.Nodes;

namespace Rdev.Api.Sessions;

/// <summary>Request and response examples for the Claude session endpoints in the OpenAPI document.</summary>
internal static class SessionsOpenApi
{
    private static readonly JsonObject Pending = new()
    {
        ["id"] = "019abf5f-0a11-7c3d-8e20-5a6b7c8d9e01",
        ["tool_name"] = "Bash",
        ["input"] = new JsonObject { ["command"] = "go test ./...", ["description"] = "Run the tests" },
        ["status"] = "pending",
        ["requested_at"] = "2026-11-27T09:30:12.410+00:00",
        ["expires_at"] = "2026-11-27T10:30:12.410+00:00",
        ["decided_at"] = null,
        ["decided_by"] = null,
        ["message"] = null,
        ["updated_input"] = null,
    };

    public static readonly JsonObject Approvals = new() { ["items"] = new JsonArray(Pending.DeepClone()) };

    public static readonly JsonObject Decision = new() { ["decision"] = "allow", ["message"] = "ok, run them" };

    public static readonly JsonObject Decided = Decide(Pending);

    public static readonly JsonObject Message = new() { ["text"] = "Now also update the changelog." };

    public static readonly JsonObject Accepted = new()
    {
        ["command_id"] = "019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90",
        ["status"] = "waiting_input",
    };

    public const string Feed = """
        id: 5012
        event: command
        data: {"id":"019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90","project":"pantheon","kind":"git","status":"queued","key_id":"k7f3a9c2","at":"2026-11-27T09:30:00.120+00:00"}

        id: 5013
        event: command
        data: {"id":"019abf5e-3c1a-7d2e-9f10-4b5c6d7e8f90","project":"pantheon","kind":"git","status":"succeeded","exit_code":0,"key_id":"k7f3a9c2","at":"2026-11-27T09:30:01.480+00:00"}


        """;

    private static JsonObject Decide(JsonObject pending)
    {
        var decided = pending.DeepClone().AsObject();
        decided["status"] = "allowed";
        decided["decided_at"] = "2026-11-27T09:31:02.007+00:00";
        decided["decided_by"] = "a1b2c3d4e5f6";
        decided["message"] = "ok, run them";
        return decided;
    }
}
