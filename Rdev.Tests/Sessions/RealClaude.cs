using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Sessions;

/// <summary>
/// The real Claude Code CLI, pinned to the version SPEC section 7a was checked against, installed from npm by
/// scripts/test.sh (path in <c>RDEV_TEST_CLAUDE</c>), on the local runtime, talking to a <see cref="FakeAnthropicApi"/>.
/// </summary>
public sealed class RealClaude : IAsyncLifetime
{
    public const string CliVariable = "RDEV_TEST_CLAUDE";
    public const string Project = "sessions";

    public CommandsHost Host { get; } = new();

    public FakeAnthropicApi Model { get; private set; } = null!;

    /// <summary>The replica that runs the commands, with the admin key.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>A second replica on the same database, with the admin key.</summary>
    public HttpClient Other { get; private set; } = null!;

    public ApiFactory OtherReplica { get; private set; } = null!;

    /// <summary>A replica whose approvals expire after 2 s.</summary>
    public HttpClient Impatient { get; private set; } = null!;

    /// <summary>A key with commands:run and commands:read but not commands:approve, on <see cref="Other"/>.</summary>
    public HttpClient NoApprove { get; private set; } = null!;

    public string Workspace { get; private set; } = null!;

    public static string CliPath =>
        Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } path && File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{CliVariable} does not name the Claude Code CLI. Run the tests with scripts/test.sh, which installs the pinned version for them.");

    /// <summary>
    /// The API settings that run the real CLI against <paramref name="model"/>: any API key, no traffic but the model's,
    /// and a throw-away HOME below <paramref name="root"/>.
    /// </summary>
    public static Dictionary<string, string?> ApiSettings(FakeAnthropicApi model, string root) => new()
    {
        ["Rdev:Commands:ClaudeCommand"] = CliPath,
        ["Rdev:Claude:Environment:ANTHROPIC_BASE_URL"] = model.Url,
        ["Rdev:Claude:Environment:ANTHROPIC_API_KEY"] = "sk-ant-test-not-a-secret",
        ["Rdev:Claude:Environment:CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
        ["Rdev:Claude:Environment:HOME"] = Directory.CreateDirectory(Path.Combine(root, ".home")).FullName,
    };

    public async Task InitializeAsync()
    {
        _ = CliPath; // Fails clearly, before anything starts, when scripts/test.sh did not install the CLI.
        await Host.InitializeAsync();
        Model = await FakeAnthropicApi.StartAsync();
        var settings = ApiSettings(Model, Host.Root.FullName);
        Api = Host.StartReplica(settings).Client;
        (OtherReplica, Other) = Host.StartReplica(settings);
        Impatient = Host.StartReplica(ApiHost.Merge(settings, new Dictionary<string, string?> { ["Rdev:Claude:ApprovalTimeoutSeconds"] = "2" })).Client;
        Workspace = await Host.AddProjectAsync(Project, maxConcurrent: 50);
        await Host.AddProjectAsync("elsewhere", maxConcurrent: 50);
        await CommandsHost.WaitForProjectAsync(Api, Project);
        await CommandsHost.WaitForProjectAsync(Other, Project);
        await CommandsHost.WaitForProjectAsync(Impatient, Project);
        NoApprove = await SessionClient.KeyAsync(Api, OtherReplica, "no-approve", ["commands:run", "commands:read"]);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Model.DisposeAsync();
    }
}
