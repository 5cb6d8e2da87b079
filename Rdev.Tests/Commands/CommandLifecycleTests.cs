using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

[Trait("Category", "Slow")]
public sealed class CommandLifecycleTests(CommandLifecycleTests.Fixture fixture) : IClassFixture<CommandLifecycleTests.Fixture>
{
    /// <summary>One database and API replica (running the fake claude) for the class; each test adds a project of its own.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();

        public HttpClient Api { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            Api = Host.StartApi(new Dictionary<string, string?> { ["Rdev:Commands:ClaudeCommand"] = FakeClaude.Install(Host.Root.FullName) });
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    private readonly CommandsHost host = fixture.Host;
    private readonly HttpClient api = fixture.Api;

    [Fact]
    public async Task ClaudeRunStreamsParsedEventsAndRecordsSessionAndCost()
    {
        var started = new List<(long Value, string? Project)>();
        using var listener = ListenTo("rdev_commands_started_total", started);
        var workspace = await host.AddProjectAsync("claude-life");
        await CommandsHost.WaitForProjectAsync(api, "claude-life");

        var prompt = "Fix the bug in $(whoami) `id` ; rm -rf / \"quoted\" 'single' \n second line -p --help";
        var command = await CommandsHost.StartAsync(api, "claude-life", "claude", new { prompt, max_turns = 3 });
        Assert.Equal("queued", command.GetProperty("status").GetString());
        var id = command.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/commands/{id}/stream", command.GetProperty("stream_url").GetString());

        var events = await CommandsHost.ReadStreamAsync(api, id);
        Assert.Equal(["queued", "running", "succeeded"],
            events.Where(e => e.EventType == "status").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("status").GetString()));
        var claudeTypes = events.Where(e => e.EventType == "claude")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Equal(["system", "assistant", "user", "assistant", "result"], claudeTypes);
        var plain = Assert.Single(events, e => e.EventType == "output");
        Assert.Equal("progress: not a JSON line\n", JsonDocument.Parse(plain.Data).RootElement.GetProperty("data").GetString());
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => i.ToString()), events.Select(e => e.EventId));

        var record = await CommandsHost.GetCommandAsync(api, id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.Equal(0, record.GetProperty("exit_code").GetInt32());
        Assert.Equal(FakeClaude.DefaultSession, record.GetProperty("session_id").GetString());
        Assert.Equal(0.0123m, record.GetProperty("total_cost_usd").GetDecimal());
        Assert.Equal(2, record.GetProperty("num_turns").GetInt32());
        Assert.Equal("Done.", record.GetProperty("result").GetString());

        // The prompt reached the program as its first stdin line, byte for byte, through no shell.
        Assert.Equal(prompt, FakeClaude.ReadPrompt(workspace));
        lock (started) // The listener sees every host's commands: other tests add to the list while this one reads it.
        {
            Assert.Contains(started, m => m.Project == "claude-life" && m.Value == 1);
        }

        // Audited with the key and the request, never the output.
        var audit = await host.Database.ScalarAsync<string>(
            $"SELECT key_id || ' ' || project || ' ' || (details->>'kind') || ' ' || (details->'args'->>'prompt') FROM audit_log WHERE action = 'command.requested' AND details->>'command_id' = '{id}'");
        Assert.Equal($"testadmin claude-life claude {prompt}", audit);
        Assert.Equal(0L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE details::text LIKE '%progress: not a JSON line%'"));
    }

    [Fact]
    public async Task ACancelWhoseNotificationNeverCameIsHonouredByTheNextHeartbeat()
    {
        // What a replica sees when it claims a command just as the cancel is posted, or when its listen connection
        // dropped: the cancel is recorded, but no NOTIFY reaches it.
        await host.AddProjectAsync("missed-cancel");
        await CommandsHost.WaitForProjectAsync(api, "missed-cancel");
        var id = (await CommandsHost.StartAsync(api, "missed-cancel", "shell", new { command = "echo started; sleep 600" })).GetProperty("id").GetString()!;
        await Eventually.TrueAsync(async () => (await CommandsHost.GetCommandAsync(api, id)).GetProperty("output_bytes").GetInt64() > 0,
            "the command runs");

        await host.Database.ScalarAsync<object>($"UPDATE commands SET cancel_requested_at = now() WHERE id = '{id}'");

        Assert.Equal("cancelled", (await CommandsHost.WaitForFinalAsync(api, id, TimeSpan.FromSeconds(30))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OutputPostgresCannotStoreIsStoredWithReplacementsAndFreesTheSlot()
    {
        await host.AddProjectAsync("unstorable", maxConcurrent: 5);
        await CommandsHost.WaitForProjectAsync(api, "unstorable");

        var replaced = new List<(long Value, string? Kind)>();
        using var listener = ListenTo("rdev_output_replaced_total", replaced, "kind");

        await UnstorableOutput.StoredWithReplacementsAndSlotsFreedAsync(api, "unstorable");

        // Per claude run: a raw NUL, a byte of invalid UTF-8 and six escapes. The shell run: NUL, 0xFF and the three
        // bytes of an encoded surrogate. (At least: the kubernetes test may run at the same time.)
        lock (replaced)
        {
            Assert.True(replaced.Where(m => m.Kind == "claude").Sum(m => m.Value) >= 5 * 8, string.Join(", ", replaced));
            Assert.True(replaced.Where(m => m.Kind == "shell").Sum(m => m.Value) >= 5, string.Join(", ", replaced));
        }
    }

    [Fact]
    public async Task ResumeTakesTheSessionIdFromTheNewRun()
    {
        await host.AddProjectAsync("claude-resume");
        await CommandsHost.WaitForProjectAsync(api, "claude-resume");

        var command = await CommandsHost.StartAsync(api, "claude-resume", "claude",
            new { prompt = "go on", session_id = "6d3f0a1e-resumed" });
        var record = await CommandsHost.WaitForFinalAsync(api, command.GetProperty("id").GetString()!);
        Assert.Equal("6d3f0a1e-resumed", record.GetProperty("session_id").GetString());
        Assert.Equal("6d3f0a1e-resumed", record.GetProperty("args").GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task GitRunsInTheWorkspaceAndOutputIsStoredWhole()
    {
        var workspace = await host.AddProjectAsync("git-life");
        await CommandsHost.WaitForProjectAsync(api, "git-life");
        RunGit(workspace, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(workspace, "hello.txt"), "hi\n");

        var command = await CommandsHost.StartAsync(api, "git-life", "git", new { args = new[] { "status", "--short" } });
        var id = command.GetProperty("id").GetString()!;
        var record = await CommandsHost.WaitForFinalAsync(api, id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.Equal("?? hello.txt\n", await api.GetStringAsync($"/api/v1/commands/{id}/output"));

        var page = JsonDocument.Parse(await api.GetStringAsync("/api/v1/projects/git-life/commands")).RootElement;
        Assert.Equal(id, page.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task OutputThatLooksLikeSseFieldsArrivesAsData()
    {
        var workspace = await host.AddProjectAsync("sse-frame");
        await CommandsHost.WaitForProjectAsync(api, "sse-frame");
        const string hostile = "\n\nid: 999\nevent: status\ndata: x\r\n\r\nretry: 1\n";
        await File.WriteAllTextAsync(Path.Combine(workspace, "hostile.txt"), hostile);

        var command = await CommandsHost.StartAsync(api, "sse-frame", "shell", new { command = "cat hostile.txt" });
        var events = await CommandsHost.ReadStreamAsync(api, command.GetProperty("id").GetString()!);

        Assert.DoesNotContain(events, e => e.EventId == "999");
        Assert.Equal(["queued", "running", "succeeded"], events.Where(e => e.EventType == "status")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("status").GetString()));
        var output = CommandsHost.OutputOf(events);
        Assert.Equal(hostile, output);
    }

    [Fact]
    public async Task TimeoutStopsTheCommandAsTimedOut()
    {
        await host.AddProjectAsync("timeout");
        await CommandsHost.WaitForProjectAsync(api, "timeout");

        var command = await CommandsHost.StartAsync(api, "timeout", "shell", new { command = "sleep 60", timeout_seconds = 1 });
        var record = await CommandsHost.WaitForFinalAsync(api, command.GetProperty("id").GetString()!);
        Assert.Equal("timed_out", record.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OutputPastTheCapIsDroppedAndMarkedWhileTheCommandCompletes()
    {
        var capped = host.StartApi(new Dictionary<string, string?> { ["Rdev:Commands:MaxOutputBytes"] = "1000" });
        var workspace = await host.AddProjectAsync("cap");
        await CommandsHost.WaitForProjectAsync(capped, "cap");

        var command = await CommandsHost.StartAsync(capped, "cap", "shell",
            new { command = "head -c 5000 /dev/zero | tr '\\0' x; echo done > finished.txt" });
        var id = command.GetProperty("id").GetString()!;
        var record = await CommandsHost.WaitForFinalAsync(capped, id);
        Assert.Equal("succeeded", record.GetProperty("status").GetString());
        Assert.True(record.GetProperty("truncated").GetBoolean());
        Assert.Equal(1000, record.GetProperty("output_bytes").GetInt64());
        Assert.Equal(new string('x', 1000), await capped.GetStringAsync($"/api/v1/commands/{id}/output"));
        Assert.True(File.Exists(Path.Combine(workspace, "finished.txt")));
    }

    /// <summary>Collects the measurements of <paramref name="instrument"/> with the value of their tag <paramref name="tagName"/>.</summary>
    private static MeterListener ListenTo(string instrument, List<(long, string?)> into, string tagName = "project")
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? label = null;
            foreach (var tag in tags)
            {
                if (tag.Key == tagName)
                {
                    label = tag.Value as string;
                }
            }

            lock (into)
            {
                into.Add((value, label));
            }
        });
        listener.Start();
        return listener;
    }

    private static void RunGit(string folder, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git") { WorkingDirectory = folder };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
