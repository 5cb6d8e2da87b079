using System.Text.Json;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Sessions;

namespace Rdev.Tests.Cli;

/// <summary>
/// The packed and installed <c>rdev</c> tool, run as a user runs it, against a real API process on Postgres: what it
/// prints on stdout and stderr, its exit codes, and its config file.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CliTests(CliHost cli) : IClassFixture<CliHost>
{
    private const string Counting = "i=1; while [ $i -le 3 ]; do echo \"line $i\"; sleep 0.3; i=$((i+1)); done; exit 3";

    [Fact]
    public async Task LoginWritesAnOwnerOnlyConfigFileThatLaterCommandsUseAndNeverPrintsTheKey()
    {
        var home = CliHost.NewConfigHome();
        var environment = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = home };

        var login = await CliHost.RunAsync(environment, "login", "--url", cli.Url, "--key", CommandsHost.AdminKey);

        Assert.True(login.ExitCode == 0, login.ToString());
        var file = Path.Combine(home, "rdev", "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
        Assert.DoesNotContain(Secret(CommandsHost.AdminKey), login.Stdout + login.Stderr);
        Assert.Contains("testadmin", login.Stdout);

        var projects = await CliHost.RunAsync(environment, "projects");
        Assert.True(projects.ExitCode == 0, projects.ToString());
        Assert.Contains(CliHost.Project, projects.Stdout);
    }

    [Fact]
    public async Task RdevUrlAndRdevApiKeyOverrideTheSavedLogin()
    {
        var home = CliHost.NewConfigHome();
        // A saved login that cannot work: nothing listens on port 9.
        var login = await CliHost.RunAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = home },
            "login", "--url", "http://127.0.0.1:9", "--key", "rdev_nobody_0000000000000000000000");
        Assert.True(login.ExitCode == 0, login.ToString());

        var overridden = await CliHost.RunAsync(cli.LoggedIn(configHome: home), "projects");
        Assert.True(overridden.ExitCode == 0, overridden.ToString());
        Assert.Contains(CliHost.Project, overridden.Stdout);

        var badKey = await CliHost.RunAsync(cli.LoggedIn("rdev_nobody_1111111111111111111111", home), "projects");
        Assert.Equal(65, badKey.ExitCode);
        Assert.Contains("UNAUTHORIZED", OneLine(badKey.Stderr));

        var saved = await CliHost.RunAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = home }, "projects");
        Assert.Equal(69, saved.ExitCode);
        Assert.Contains("127.0.0.1:9", OneLine(saved.Stderr));
    }

    [Fact]
    public async Task ProjectsPrintsATableAndJson()
    {
        var table = await cli.RunAsync("projects");
        Assert.True(table.ExitCode == 0, table.ToString());
        var row = Assert.Single(table.Stdout.Split('\n'), line => line.StartsWith(CliHost.Project + " ", StringComparison.Ordinal));
        Assert.Contains("running", row);

        var json = await cli.RunAsync("projects", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var project = Assert.Single(JsonDocument.Parse(json.Stdout).RootElement.EnumerateArray());
        Assert.Equal(CliHost.Project, project.GetProperty("name").GetString());
    }

    [Fact]
    public async Task GitStreamsItsOutputAndExitsWithGitsCode()
    {
        var log = await cli.RunAsync("git", CliHost.Project, "log", "--oneline", "-n", "5");
        Assert.True(log.ExitCode == 0, log.ToString());
        Assert.EndsWith(" first commit\n", log.Stdout);
        Assert.Equal("", log.Stderr);

        var missing = await cli.RunAsync("git", CliHost.Project, "show", "no-such-revision");
        Assert.Equal(128, missing.ExitCode);
        Assert.Contains("no-such-revision", missing.Stderr);
        Assert.Equal("", missing.Stdout);
    }

    [Fact]
    public async Task ShellExitsWithTheCommandsCodeAndKeepsStdoutAndStderrApart()
    {
        var run = await cli.RunAsync("shell", CliHost.Project, "echo out; echo err >&2; exit 7");

        Assert.Equal(7, run.ExitCode);
        Assert.Equal("out\n", run.Stdout);
        Assert.Equal("err\n", run.Stderr);
    }

    [Fact]
    public async Task JsonPrintsEveryEventAsOneJsonLineWithItsIdInOrder()
    {
        // Options go before the project: everything after it is the command line (docs/cli.md).
        var run = await cli.RunAsync("shell", "--json", CliHost.Project, "echo out; echo err >&2; exit 7");

        Assert.Equal(7, run.ExitCode);
        Assert.True(run.Stderr == "", run.ToString());
        var events = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("id").GetInt64()));
        var output = events.Where(e => e.GetProperty("event").GetString() == "output").Select(e => e.GetProperty("data")).ToList();
        Assert.Contains(output, d => d.GetProperty("stream").GetString() == "stdout" && d.GetProperty("data").GetString() == "out\n");
        Assert.Contains(output, d => d.GetProperty("stream").GetString() == "stderr" && d.GetProperty("data").GetString() == "err\n");
        var last = events[^1];
        Assert.Equal("status", last.GetProperty("event").GetString());
        Assert.Equal("failed", last.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(7, last.GetProperty("data").GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task ACommandCancelledFromAnotherTerminalEndsTheFollowingRunWith130()
    {
        using var follow = await cli.StartAsync("shell", CliHost.Project, "echo started; sleep 600");
        await Eventually.TrueAsync(() => follow.Stdout.Contains("started"), "the command runs: " + follow);
        var id = await NewestCommandAsync();

        var cancel = await cli.RunAsync("cancel", id);

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal(130, await follow.WaitAsync());
        Assert.Equal("cancelled", (await CommandsHost.GetCommandAsync(cli.Admin, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ACommandStoppedByItsTimeoutExitsWith124()
    {
        var run = await cli.RunAsync("shell", "--timeout", "1", CliHost.Project, "echo started; sleep 30");

        Assert.True(run.ExitCode == 124, run.ToString());
        Assert.Equal("started\n", run.Stdout);
    }

    [Fact]
    public async Task DetachPrintsOnlyTheIdAndLogsFollowShowsTheWholeOutputWithTheExitCode()
    {
        var detached = await cli.RunAsync("shell", "--detach", CliHost.Project, Counting);
        Assert.True(detached.ExitCode == 0, detached.ToString());
        var id = detached.Stdout.Trim();
        Assert.True(Guid.TryParse(id, out _), detached.ToString());

        var follow = await cli.RunAsync("logs", id, "--follow");
        Assert.Equal(3, follow.ExitCode);
        Assert.Equal("line 1\nline 2\nline 3\n", follow.Stdout);

        var stored = await cli.RunAsync("logs", id);
        Assert.True(stored.ExitCode == 0, stored.ToString());
        Assert.Equal("line 1\nline 2\nline 3\n", stored.Stdout);
    }

    [Fact]
    public async Task CtrlCWithoutATerminalDetachesAndTheCommandGoesOn()
    {
        using var follow = await cli.StartAsync("shell", CliHost.Project, "echo started; sleep 600");
        await Eventually.TrueAsync(() => follow.Stdout.Contains("started"), "the command runs: " + follow);
        var id = await NewestCommandAsync();

        Assert.Equal(0, follow.Signal(2));

        Assert.Equal(75, await follow.WaitAsync());
        Assert.Contains(id, follow.Stderr);
        Assert.Equal("running", (await CommandsHost.GetCommandAsync(cli.Admin, id)).GetProperty("status").GetString());
        await cli.Admin.PostAsync($"/api/v1/commands/{id}/cancel", null);
    }

    [Fact]
    public async Task CtrlCOnATerminalAsksWhetherToCancelAndYesCancelsTheCommand()
    {
        using var terminal = await RdevProcess.StartAsync(["shell", CliHost.Project, "echo started; sleep 600"], cli.LoggedIn(), terminal: true);
        await Eventually.TrueAsync(() => terminal.Stdout.Contains("started"), "the command runs: " + terminal);
        var id = await NewestCommandAsync();

        await terminal.TypeAsync("\x03");
        await Eventually.TrueAsync(() => terminal.Stdout.Contains("cancel the command? [y/N] "), "rdev asks: " + terminal);
        Assert.Equal("running", (await CommandsHost.GetCommandAsync(cli.Admin, id)).GetProperty("status").GetString());
        await terminal.TypeAsync("y\r");

        Assert.Equal(130, await terminal.WaitAsync());
        Assert.Equal("cancelled", (await CommandsHost.GetCommandAsync(cli.Admin, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task KeysAreCreatedListedAndRevokedAndAProblemIsOneLineWithItsCode()
    {
        var created = await cli.RunAsync("keys", "create", "--name", "cli reader", "--scope", "projects:read", "--project", CliHost.Project);
        Assert.True(created.ExitCode == 0, created.ToString());
        var key = created.Stdout.Trim();
        var keyId = key.Split('_')[1];

        var listed = await cli.RunAsync("keys", "list");
        Assert.Contains(listed.Stdout.Split('\n'), line => line.StartsWith(keyId, StringComparison.Ordinal) && line.Contains("cli reader"));

        var reader = cli.LoggedIn(key);
        Assert.Contains(CliHost.Project, (await CliHost.RunAsync(reader, "projects")).Stdout);
        var forbidden = await CliHost.RunAsync(reader, "shell", CliHost.Project, "true");
        Assert.Equal(65, forbidden.ExitCode);
        Assert.Contains("FORBIDDEN", OneLine(forbidden.Stderr));
        Assert.Equal("", forbidden.Stdout);

        var revoked = await cli.RunAsync("keys", "revoke", keyId);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains("revoked", (await cli.RunAsync("keys", "list")).Stdout.Split('\n').Single(l => l.StartsWith(keyId, StringComparison.Ordinal)));
        var refused = await CliHost.RunAsync(reader, "projects");
        Assert.Equal(65, refused.ExitCode);
        Assert.Contains("UNAUTHORIZED", OneLine(refused.Stderr));
    }

    [Fact]
    public async Task ApprovalsSaysSoWhenNothingWaitsAndApproveOfAnUnknownCommandIsNotFound()
    {
        var none = await cli.RunAsync("approvals", "--project", CliHost.Project);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("no pending approvals", none.Stderr);
        Assert.Equal("", none.Stdout);

        var unknown = await cli.RunAsync("approve", Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        Assert.Equal(65, unknown.ExitCode);
        Assert.Contains("NOT_FOUND", OneLine(unknown.Stderr));
    }

    [Fact]
    public async Task AClaudeSessionShowsItsAnswerOnStdoutAndWaitsForAnApprovalGivenWithApprove()
    {
        _ = RealClaude.CliPath; // Fails clearly when scripts/test.sh did not install the CLI.
        var file = Path.Combine(cli.Workspace, "approved.txt");
        using var session = await cli.StartAsync("claude", CliHost.Project, $"please WRITE {file}");

        // What waits, seen from another terminal: one line to read, one ready command to answer it.
        var pending = await Eventually.ValueAsync(async () =>
        {
            var listed = await cli.RunAsync("approvals", "--project", CliHost.Project);
            return (listed.Stdout.Contains("rdev approve "), listed);
        }, "rdev approvals lists the pending Write");
        Assert.Contains("Write", pending.Stdout);
        var approve = pending.Stdout.Split('\n').Single(l => l.Contains("rdev approve ", StringComparison.Ordinal)).Trim();
        var ids = approve.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..4];
        Assert.Contains($"[approval {ids[1]}]", session.Stderr);

        var decided = await cli.RunAsync("approve", ids[0], ids[1]);
        Assert.True(decided.ExitCode == 0, decided.ToString());
        Assert.Equal("Write: allowed\n", decided.Stdout);

        Assert.Equal(0, await session.WaitAsync());
        Assert.Contains("tool done:", session.Stdout);
        Assert.DoesNotContain("[approval", session.Stdout);
        Assert.Contains("[tool] Write", session.Stderr);
        Assert.Equal(FakeAnthropicApi.WrittenContent, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task AKeptOpenSessionTakesEachStdinLineAsAFollowUpAnEmptyLineClosesItAndSessionContinuesIt()
    {
        _ = RealClaude.CliPath;
        using var session = await cli.StartAsync("claude", CliHost.Project, "first turn alpha", "--keep-open");
        await Eventually.TrueAsync(() => session.Stdout.Contains("echo: first turn alpha"), "the first turn is answered on stdout");

        await session.TypeAsync("second turn beta\n");
        await Eventually.TrueAsync(() => session.Stdout.Contains("echo: second turn beta"), "the line typed on stdin is answered");
        await session.TypeAsync("\n");
        Assert.Equal(0, await session.WaitAsync());
        Assert.Single(session.Stdout.Split('\n'), line => line == "echo: first turn alpha");

        // The session id the first run showed continues that conversation: the model sees the earlier turns.
        var id = System.Text.RegularExpressions.Regex.Match(session.Stderr, @"\[claude session ([0-9a-f-]{36})").Groups[1].Value;
        Assert.True(Guid.TryParse(id, out _), session.ToString());
        var resumed = await cli.RunAsync("claude", CliHost.Project, "third turn gamma", "--session", id);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("echo: third turn gamma", resumed.Stdout);
        Assert.Contains($"session {id}", resumed.Stderr);
        var shown = FakeAnthropicApi.UserTexts(cli.Model!.Requests.Last(r => FakeAnthropicApi.UserTexts(r).Contains("third turn gamma"))).ToList();
        Assert.Contains("first turn alpha", shown);
        Assert.Contains("second turn beta", shown);
    }

    [Fact]
    public async Task ApprovalsWatchPrintsAnApprovalThatComesLaterAndApproveDenyTellsClaudeWhy()
    {
        _ = RealClaude.CliPath;
        using var watch = await cli.StartAsync("approvals", "--watch", "--project", CliHost.Project);
        await Eventually.TrueAsync(() => watch.Stderr.Contains("watching for approvals"), "the watch has started");

        var file = Path.Combine(cli.Workspace, "denied.txt");
        using var session = await cli.StartAsync("claude", CliHost.Project, $"please WRITE {file}");
        var line = await Eventually.ValueAsync(() =>
        {
            var ready = watch.Stdout.Split('\n').FirstOrDefault(l => l.Contains("rdev approve ", StringComparison.Ordinal));
            return Task.FromResult((ready is not null, ready ?? watch.ToString()));
        }, "rdev approvals --watch prints the Write the new session waits for");
        Assert.Contains("Write", watch.Stdout);
        Assert.Contains(file, watch.Stdout);
        var ids = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..4];

        var denied = await cli.RunAsync("approve", ids[0], ids[1], "--deny", "--message", "not in this folder");
        Assert.True(denied.ExitCode == 0, denied.ToString());
        Assert.Equal("Write: denied\n", denied.Stdout);

        // Claude is told, and the session goes on without writing the file.
        Assert.Equal(0, await session.WaitAsync());
        Assert.Contains("not in this folder", session.Stdout + session.Stderr);
        Assert.False(File.Exists(file));

        // The watch runs until Ctrl+C (which ends it as an interrupted program, 130), and printed each approval once.
        Assert.Single(watch.Stdout.Split('\n'), l => l.Contains("rdev approve ", StringComparison.Ordinal));
        watch.Signal(2);
        Assert.Equal(130, await watch.WaitAsync());
    }

    private async Task<string> NewestCommandAsync()
    {
        var page = JsonDocument.Parse(await cli.Admin.GetStringAsync($"/api/v1/projects/{CliHost.Project}/commands?limit=1")).RootElement;
        return page.GetProperty("items")[0].GetProperty("id").GetString()!;
    }

    /// <summary>Asserts that <paramref name="stderr"/> is one line starting "rdev: ", and returns it.</summary>
    internal static string OneLine(string stderr)
    {
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("rdev: ", line);
        return line;
    }

    private static string Secret(string key) => key[(key.LastIndexOf('_') + 1)..];
}
