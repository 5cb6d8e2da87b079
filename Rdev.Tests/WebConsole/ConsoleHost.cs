using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Sessions;

namespace Rdev.Tests.WebConsole;

/// <summary>
/// The whole path a person's browser takes: Postgres, the API as a real process on the local runtime (running the
/// real Claude Code CLI against a <see cref="FakeAnthropicApi"/>), and the console as a real process that finds the
/// API through service discovery settings, as under the AppHost. One project, <see cref="Project"/>, is a git repository.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    public const string Project = "demo";
    public const string FirstCommit = "first commit of the demo";

    public CommandsHost Host { get; } = new();

    public FakeAnthropicApi Model { get; private set; } = null!;

    public ApiProcess Api { get; private set; } = null!;

    public ApiProcess Console { get; private set; } = null!;

    /// <summary>Where a browser opens the console: below <see cref="PathBase"/>, as the Kubernetes Ingress serves it.</summary>
    public Uri Url => new(Console.BaseAddress, PathBase + "/");

    public const string PathBase = "/console";

    /// <summary>A client of the API process with the admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>A key with every scope a person needs except <c>commands:approve</c>.</summary>
    public string NoApproveKey { get; private set; } = "";

    public string Workspace { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = RealClaude.CliPath; // Fails clearly when scripts/test.sh did not install the CLI.
        await Host.InitializeAsync();
        Model = await FakeAnthropicApi.StartAsync();
        Api = ApiProcess.Start(Host.ConnectionString, ApiHost.Merge(Host.Settings, RealClaude.ApiSettings(Model, Host.Root.FullName)));
        Admin = new HttpClient { BaseAddress = Api.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        await Api.WaitUntilServingAsync(Admin, "/api/v1/projects");

        Workspace = await Host.AddProjectAsync(Project, maxConcurrent: 50);
        GitConfinementTests.InitRepository(Workspace);
        GitConfinementTests.CommitReadme(Workspace, "the demo project\n", FirstCommit);
        await ApiHost.WaitForProjectAsync(Admin, Project);

        var created = await Admin.PostAsJsonAsync("/api/v1/keys", new
        {
            name = "no-approve", scopes = new[] { "projects:read", "commands:run", "commands:read", "config:read" },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        NoApproveKey = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;

        // As the AppHost's WithReference(api) does: the console resolves https+http://api through these settings.
        // Development, as under `dotnet run`: the build output serves the static assets from their build manifest.
        Console = ApiProcess.Start(Host.ConnectionString, new Dictionary<string, string?>
        {
            ["services:api:http:0"] = Api.BaseAddress.ToString().TrimEnd('/'),
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Console:PathBase"] = PathBase,
        }, project: "Rdev.Console");
        using var probe = new HttpClient { BaseAddress = Console.BaseAddress };
        await Console.WaitUntilServingAsync(probe, $"{PathBase}/health");
    }

    /// <summary>Starts a Claude session that asks to write a file in the workspace; returns its id and the file.</summary>
    public async Task<(string Id, string File)> StartWriteSessionAsync(string fileName)
    {
        var file = Path.Combine(Workspace, fileName);
        var id = await SessionClient.StartAsync(Admin, new { prompt = $"please WRITE {file}" }, Project);
        await SessionClient.WaitForStatusAsync(Admin, id, "waiting_approval", TimeSpan.FromSeconds(60));
        return (id, file);
    }

    public async Task DisposeAsync()
    {
        Console?.Dispose();
        Api?.Dispose();
        Admin?.Dispose();
        await Host.DisposeAsync();
        if (Model is not null)
        {
            await Model.DisposeAsync();
        }
    }
}
