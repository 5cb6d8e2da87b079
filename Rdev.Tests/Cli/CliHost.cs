using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Sessions;

namespace Rdev.Tests.Cli;

/// <summary>What <c>rdev</c> printed and how it ended.</summary>
public sealed record RdevResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// The installed <c>rdev</c> against a real API process on Postgres (local runtime, projects in a temporary folder):
/// project <c>hello</c> is a git repository, and each run gets a config folder of its own.
/// </summary>
public sealed class CliHost : IAsyncLifetime
{
    public const string Project = "hello";

    /// <summary>A replica that dies is replaced within 2 s, so a restart test does not wait 15 s for the takeover.</summary>
    public static readonly Dictionary<string, string?> FastTakeover = new()
    {
        ["Rdev:Commands:HeartbeatSeconds"] = "0.5",
        ["Rdev:Commands:RunnerTimeoutSeconds"] = "2",
    };

    public CommandsHost Host { get; } = new();

    public ApiProcess Api { get; private set; } = null!;

    /// <summary>The admin key's client of <see cref="Api"/>, to set things up and check them behind the CLI's back.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public string Workspace { get; private set; } = null!;

    /// <summary>The model the real Claude Code CLI talks to, when scripts/test.sh installed the CLI (RDEV_TEST_CLAUDE).</summary>
    public FakeAnthropicApi? Model { get; private set; }

    public string Url => Api.BaseAddress.ToString().TrimEnd('/');

    public async Task InitializeAsync()
    {
        var tool = RdevTool.PathAsync();
        await Host.InitializeAsync();
        Workspace = await Host.AddProjectAsync(Project);
        GitConfinementTests.InitRepository(Workspace);
        GitConfinementTests.CommitReadme(Workspace, "hello from the work tree\n", "first commit");
        if (Environment.GetEnvironmentVariable(RealClaude.CliVariable) is { Length: > 0 })
        {
            Model = await FakeAnthropicApi.StartAsync();
            foreach (var (name, value) in RealClaude.ApiSettings(Model, Host.Root.FullName))
            {
                Host.Settings[name] = value;
            }
        }

        Api = StartApi();
        Admin = ApiHost.WithKey(new HttpClient { BaseAddress = Api.BaseAddress }, CommandsHost.AdminKey);
        await Api.WaitUntilServingAsync(Admin, $"/api/v1/projects/{Project}");
        await tool;
    }

    /// <summary>An API process on this host's database, on <paramref name="port"/> when given (a restart).</summary>
    public ApiProcess StartApi(int? port = null) =>
        ApiProcess.Start(Host.ConnectionString, ApiHost.Merge(Host.Settings, FastTakeover), port: port);

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        Admin?.Dispose();
        await Host.DisposeAsync();
        if (Model is not null)
        {
            await Model.DisposeAsync();
        }
    }

    /// <summary>A fresh, empty config folder (XDG_CONFIG_HOME) for runs that must not see another test's login.</summary>
    public static string NewConfigHome() => Directory.CreateTempSubdirectory("rdev-cli-config-").FullName;

    /// <summary>The environment of a run logged in through RDEV_URL and RDEV_API_KEY with <paramref name="key"/>.</summary>
    public Dictionary<string, string?> LoggedIn(string? key = null, string? configHome = null) => new()
    {
        ["XDG_CONFIG_HOME"] = configHome ?? NewConfigHome(),
        ["RDEV_URL"] = Url,
        ["RDEV_API_KEY"] = key ?? CommandsHost.AdminKey,
    };

    /// <summary>Starts <c>rdev</c> with the admin key and returns at once (for a test that acts while it runs).</summary>
    public Task<RdevProcess> StartAsync(params string[] args) => RdevProcess.StartAsync(args, LoggedIn());

    /// <summary>Runs <c>rdev</c> with the admin key (or <paramref name="environment"/>) to its end, its stdin closed.</summary>
    public static async Task<RdevResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var rdev = await RdevProcess.StartAsync(args, environment);
        rdev.CloseInput();
        var exit = await rdev.WaitAsync();
        return new RdevResult(exit, rdev.Stdout, rdev.Stderr);
    }

    public Task<RdevResult> RunAsync(params string[] args) => RunAsync(LoggedIn(), args);
}
