using System.Diagnostics;
using System.Net.Http.Headers;
using Npgsql;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// Local commands cannot read the API process: they carry none of its secrets, a root API drops to an unprivileged
/// user (the folder's owner or Rdev:Local:RunAsUser), and a non-root API is non-dumpable so that commands running as
/// the same user cannot read its /proc files. The test process runs as root, like an API started by root.
/// </summary>
[Trait("Category", "Slow")]
public sealed class LocalUserTests : IAsyncLifetime
{
    private const uint Nobody = 65534;

    private readonly CommandsHost host = new();

    private static string DatabasePassword => new NpgsqlConnectionStringBuilder(PostgresDatabase.ServerConnectionString).Password!;

    private static string AdminSecret => CommandsHost.AdminKey.Split('_')[2];

    public async Task InitializeAsync()
    {
        await host.InitializeAsync();
        // Another user must be able to reach the project folders and the fake claude program.
        File.SetUnixFileMode(host.Root.FullName, (UnixFileMode)0b111_101_101);
    }

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task ACommandSeesNeitherTheBootstrapKeyNorTheConnectionStringOfTheApiEnvironment()
    {
        host.StartApi(); // migrates the database
        await host.AddProjectAsync("env");
        using var api = ApiProcess.Start(host.ConnectionString, host.Settings); // both as environment variables
        var client = Client(api);
        await api.WaitUntilServingAsync(client, "/api/v1/projects/env");

        var output = await RunAsync(client, "env", "shell", new { command = "env; cat /proc/$$/environ" });

        Assert.Contains("PATH=", output);
        Assert.DoesNotContain(AdminSecret, output);
        Assert.DoesNotContain(DatabasePassword, output);
    }

    [Fact]
    public async Task ACommandRunningAsTheApiUserCannotReadTheApiProcessEnvironment()
    {
        host.StartApi();
        var folder = await host.AddProjectAsync("same-user");
        var home = Directory.CreateDirectory(Path.Combine(host.Root.FullName, "home")).FullName;
        Chown(Nobody, folder, home);
        // Its own runs root (the default, under its temp folder): the host's belongs to root.
        var settings = new Dictionary<string, string?>(host.Settings) { ["HOME"] = home, ["Rdev:Local:RunsRoot"] = "" };
        using var api = ApiProcess.Start(host.ConnectionString, settings, launcher: ["setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "--"]);
        var client = Client(api);
        await api.WaitUntilServingAsync(client, "/api/v1/projects/same-user");

        var output = await RunAsync(client, "same-user", "shell",
            // One stream (2>&1), so the lines come in the order they were written.
            new { command = $"exec 2>&1; id -u; cat /proc/{api.Process.Id}/environ; head -c 4096 /proc/{api.Process.Id}/mem" });

        Assert.StartsWith($"{Nobody}\n", output);
        Assert.Contains("Permission denied", output);
        Assert.DoesNotContain(AdminSecret, output);
        Assert.DoesNotContain(DatabasePassword, output);
    }

    [Fact]
    public async Task ARootApiRunsCommandsAsTheOwnerOfTheProjectFolder()
    {
        var api = host.StartApi(new Dictionary<string, string?> { ["Rdev:Commands:ClaudeCommand"] = FakeClaude.Install(host.Root.FullName) });
        var folder = await host.AddProjectAsync("owned");
        GitConfinementTests.InitRepository(folder);
        Chown(Nobody, folder);
        await CommandsHost.WaitForProjectAsync(api, "owned");

        await AssertRunsAsNobodyAsync(api, "owned", folder);
    }

    [Fact]
    public async Task RunAsUserPicksTheUserForEveryLocalCommand()
    {
        var api = host.StartApi(new Dictionary<string, string?>
        {
            ["Rdev:Local:RunAsUser"] = "nobody",
            ["Rdev:Commands:ClaudeCommand"] = FakeClaude.Install(host.Root.FullName),
        });
        var folder = await host.AddProjectAsync("configured");
        GitConfinementTests.InitRepository(folder);
        Chown(Nobody, folder);
        await CommandsHost.WaitForProjectAsync(api, "configured");

        await AssertRunsAsNobodyAsync(api, "configured", folder);
    }

    private static async Task AssertRunsAsNobodyAsync(HttpClient api, string project, string folder)
    {
        var output = await RunAsync(api, project, "shell",
            new { command = $"exec 2>&1; id -u; echo HOME=$HOME; cat /proc/{Environment.ProcessId}/environ" });
        Assert.StartsWith($"{Nobody}\n", output);
        Assert.Contains("Permission denied", output);
        Assert.DoesNotContain(DatabasePassword, output);
        Assert.DoesNotContain("HOME=/root", output);

        File.WriteAllText(Path.Combine(folder, "change.txt"), "change\n");
        Chown(Nobody, folder);
        await RunAsync(api, project, "git", new { args = new[] { "add", "." } }, "succeeded");
        await RunAsync(api, project, "git", new { args = new[] { "commit", "-m", "as nobody" } }, "succeeded");
        Assert.Contains("as nobody", await RunAsync(api, project, "git", new { args = new[] { "log", "--oneline" } }, "succeeded"));
        await RunAsync(api, project, "claude", new { prompt = "hello" }, "succeeded");
        Assert.Equal(Nobody, Owner(Path.Combine(folder, ".fake-claude-prompt")));
    }

    private static async Task<string> RunAsync(HttpClient client, string project, string kind, object body, string? status = null)
    {
        var started = await CommandsHost.StartAsync(client, project, kind, body);
        var id = started.GetProperty("id").GetString()!;
        var record = await CommandsHost.WaitForFinalAsync(client, id, TimeSpan.FromSeconds(60));
        var output = await client.GetStringAsync($"/api/v1/commands/{id}/output");
        if (status is not null)
        {
            Assert.True(record.GetProperty("status").GetString() == status, $"{kind}: {output}");
        }

        return output;
    }

    private static HttpClient Client(ApiProcess api)
    {
        var client = new HttpClient { BaseAddress = api.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CommandsHost.AdminKey);
        return client;
    }

    private static void Chown(uint uid, params string[] paths)
    {
        foreach (var path in paths)
        {
            using var chown = Process.Start("chown", ["-R", $"{uid}:{uid}", path]);
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }
    }

    private static uint Owner(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var owner = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return uint.Parse(owner, System.Globalization.CultureInfo.InvariantCulture);
    }
}
