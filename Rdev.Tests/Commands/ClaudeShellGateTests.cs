using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// A Claude permission mode or tool list that runs commands without approval is a shell by another name: it needs
/// the commands:shell scope and a project that allows shell (403 FORBIDDEN otherwise, nothing stored or started).
/// The rule is checked before the runner, so one runtime (local) covers both.
/// </summary>
public sealed class ClaudeShellGateTests(ClaudeShellGateTests.Fixture fixture) : IClassFixture<ClaudeShellGateTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();
        public Dictionary<string, HttpClient> Keys { get; } = [];
        public string ShellWorkspace { get; private set; } = null!;
        public string NoShellWorkspace { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            var claude = FakeClaude.Install(Host.Root.FullName);
            var (factory, admin) = Host.StartReplica(new Dictionary<string, string?> { ["Rdev:Commands:ClaudeCommand"] = claude });
            ShellWorkspace = await Host.AddProjectAsync("shell-ok", ["claude", "git", "shell"], maxConcurrent: 100);
            NoShellWorkspace = await Host.AddProjectAsync("no-shell", ["claude", "git"], maxConcurrent: 100);
            await CommandsHost.WaitForProjectAsync(admin, "shell-ok");
            await CommandsHost.WaitForProjectAsync(admin, "no-shell");
            foreach (var (name, scopes) in new[]
            {
                ("run", new[] { "commands:run", "commands:read" }),
                ("shell", new[] { "commands:run", "commands:read", "commands:shell" }),
            })
            {
                var created = await admin.PostAsJsonAsync("/api/v1/keys", new { name, scopes });
                var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
                var client = factory.CreateClient();
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                Keys[name] = client;
            }
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    public static IEnumerable<object[]> Refused() =>
        new (string Key, string Project, string Body)[]
        {
            ("run", "shell-ok", """{"prompt":"x","permission_mode":"bypassPermissions","allowed_tools":["Bash"]}"""),
            ("run", "shell-ok", """{"prompt":"x","permission_mode":"bypassPermissions"}"""),
            ("run", "shell-ok", """{"prompt":"x","permission_mode":"acceptEdits"}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Bash"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Read","bash(ls:*)"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Read,Bash"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Read Bash(git push:*)"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["*"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Write"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Edit(src/**)"]}"""),
            ("run", "shell-ok", """{"prompt":"x","allowed_tools":["Read(x"]}"""),
            ("run", "no-shell", """{"prompt":"x","permission_mode":"bypassPermissions","allowed_tools":["Bash"]}"""),
            ("shell", "no-shell", """{"prompt":"x","permission_mode":"bypassPermissions","allowed_tools":["Bash"]}"""),
            ("shell", "no-shell", """{"prompt":"x","allowed_tools":["BASH"]}"""),
            ("shell", "no-shell", """{"prompt":"x","permission_mode":"acceptEdits"}"""),
        }.Select(c => new object[] { c.Key, c.Project, c.Body });

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task AShellByAnotherNameNeedsTheShellScopeAndAShellProject(string key, string project, string body)
    {
        var before = await fixture.Host.Database.ScalarAsync<long>("SELECT count(*) FROM commands");
        var response = await fixture.Keys[key].PostAsync($"/api/v1/projects/{project}/claude",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("commands:shell", detail);
        Assert.Contains(key == "run" ? "lacks the 'commands:shell' scope" : $"project '{project}' does not allow shell", detail);
        Assert.Equal(before, await fixture.Host.Database.ScalarAsync<long>("SELECT count(*) FROM commands"));
    }

    public static IEnumerable<object[]> Accepted() =>
        new (string Key, string Project, string Body)[]
        {
            ("shell", "shell-ok", """{"prompt":"x","permission_mode":"bypassPermissions","allowed_tools":["Bash"]}"""),
            ("shell", "shell-ok", """{"prompt":"x","permission_mode":"acceptEdits","allowed_tools":["Edit","Bash(make:*)"]}"""),
            ("run", "no-shell", """{"prompt":"x","permission_mode":"default","allowed_tools":["Read","Grep"]}"""),
            ("run", "shell-ok", """{"prompt":"x","permission_mode":"plan","allowed_tools":["Read(./src/**)","Glob"]}"""),
            ("run", "no-shell", """{"prompt":"x"}"""),
        }.Select(c => new object[] { c.Key, c.Project, c.Body });

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Accepted))]
    public async Task EverythingElseStillRuns(string key, string project, string body)
    {
        var response = await fixture.Keys[key].PostAsync($"/api/v1/projects/{project}/claude",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        var record = await CommandsHost.WaitForFinalAsync(fixture.Keys[key], id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
    }

    // Without shell authority Claude also runs in its restricted mode, so that files a git user can write in the
    // workspace (.claude/settings.json hooks and permissions, MCP servers) cannot hand it a shell either.
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("run", "shell-ok", true)]
    [InlineData("shell", "no-shell", true)]
    [InlineData("shell", "shell-ok", false)]
    public async Task ClaudeRunsRestrictedUnlessTheKeyAndProjectMayRunAShell(string key, string project, bool restricted)
    {
        var response = await fixture.Keys[key].PostAsJsonAsync($"/api/v1/projects/{project}/claude", new { prompt = "x" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await CommandsHost.WaitForFinalAsync(fixture.Keys[key], id)).GetProperty("status").GetString());

        var workspace = project == "shell-ok" ? fixture.ShellWorkspace : fixture.NoShellWorkspace;
        var args = File.ReadAllLines(Path.Combine(workspace, ".fake-claude-args"));
        Assert.Equal(restricted, args.Contains("--restricted") && args.Contains("--strict-mcp-config"));
        Assert.Equal(restricted, args.Contains("--restricted"));
    }
}
