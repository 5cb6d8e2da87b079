using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>Hostile input to the command endpoints: each gets its specified answer and nothing reaches a shell.</summary>
public sealed class CommandInjectionTests(CommandInjectionTests.Fixture fixture) : IClassFixture<CommandInjectionTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();
        public HttpClient Api { get; private set; } = null!;
        public string Workspace { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            var claude = FakeClaude.Install(Host.Root.FullName);
            Api = Host.StartApi(new Dictionary<string, string?> { ["Rdev:Commands:ClaudeCommand"] = claude });
            Workspace = await Host.AddProjectAsync("target", maxConcurrent: 1000);
            await CommandsHost.WaitForProjectAsync(Api, "target");
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }

    private static readonly string[] BlockedGit =
    [
        "-c", "-ccore.pager=touch pwned", "-C", "-C/tmp", "-ac", "--config-env=core.pager=X", "--exec-path=/tmp",
        "--upload-pack=touch pwned", "--upload-pack", "--upl=touch pwned", "--receive-pack=touch pwned",
        "--exec=touch pwned", "--git-dir=/tmp", "--work-tree=/", "--output=/tmp/pwned", "--no-index",
        "--ext-diff", "--namespace=x", "--super-prefix=x", "--template=/tmp", "--config=core.x=y",
    ];

    private static readonly string[] GitSubcommands = ["status", "diff", "log", "show", "fetch", "pull", "push", "commit"];

    public static IEnumerable<object[]> RejectedBodies()
    {
        // Option injection after every allowed subcommand: 21 options x 8 subcommands.
        foreach (var sub in GitSubcommands)
        {
            foreach (var option in BlockedGit)
            {
                yield return ["git", Json(new { args = new[] { sub, option } })];
            }
        }

        foreach (var args in new[]
        {
            new[] { "fetch", "-u", "touch pwned" }, ["fetch", "-utouch pwned"], ["pull", "-u", "x"], ["pull", "-vu", "x"],
            ["fetch", "ext::sh -c touch% pwned"], ["pull", "fd::17"], ["push", "ext::sh"],
            ["config", "core.pager", "touch pwned"], ["clone", "https://example.invalid/x"], ["rebase", "--exec", "touch pwned"],
            ["remote", "add", "x", "ext::sh"], ["remote"], ["-c", "x=y", "status"], ["--exec-path=/tmp", "status"],
            ["--git-dir=/tmp", "status"], ["-C", "/", "status"], ["!sh"], [""], ["status\0"], ["STATUS"], ["status;id"],
            ["submodule", "foreach", "touch pwned"], ["archive", "--output=/tmp/x", "HEAD"], ["grep", "-O", "x"],
            [], ["log", "a\0b"], ["log", new string('a', 4097)], Enumerable.Repeat("status", 65).ToArray(),
        })
        {
            yield return ["git", Json(new { args })];
        }

        yield return ["git", """{"args":"status"}"""];
        yield return ["git", """{"args":[1,2]}"""];
        yield return ["git", """{"args":null}"""];
        yield return ["git", """{"args":["status"],"timeout_seconds":0}"""];
        yield return ["git", """{"args":["status"],"timeout_seconds":99999999}"""];

        foreach (var body in new object[]
        {
            new { prompt = "" }, new { prompt = "a\0b" }, new { prompt = new string('p', 100_001) },
            new { prompt = "x", session_id = "--dangerously-skip-permissions" }, new { prompt = "x", session_id = "a b" },
            new { prompt = "x", session_id = "$(id)" }, new { prompt = "x", session_id = "abc", @continue = true },
            new { prompt = "x", model = "-x" }, new { prompt = "x", model = "opus; touch pwned" }, new { prompt = "x", model = "a\nb" },
            new { prompt = "x", max_turns = 0 }, new { prompt = "x", max_turns = 100000 }, new { prompt = "x", max_budget_usd = -1 },
            new { prompt = "x", permission_mode = "yolo" }, new { prompt = "x", permission_mode = "--dangerously-skip-permissions" },
            new { prompt = "x", allowed_tools = new[] { "--dangerously-skip-permissions" } },
            new { prompt = "x", allowed_tools = new[] { "Bash\n--x" } }, new { prompt = "x", allowed_tools = new[] { "" } },
            new { prompt = "x", allowed_tools = Enumerable.Repeat("Read", 101).ToArray() },
            new { prompt = "x", timeout_seconds = -5 },
        })
        {
            yield return ["claude", Json(body)];
        }

        yield return ["claude", """{"prompt":"\ud800 lone surrogate"}"""];
        yield return ["claude", """{"prompt":"x","max_turns":"three"}"""];
        yield return ["claude", """{"prompt":"""];
        yield return ["claude", """not json at all"""];
        yield return ["claude", """{}"""];
        yield return ["shell", Json(new { command = "" })];
        yield return ["shell", Json(new { command = "echo a\0b" })];
        yield return ["shell", Json(new { command = new string('e', 16_385) })];
        yield return ["shell", """{"command":"\udfff"}"""];
        yield return ["shell", """{"command":["echo","x"]}"""];
        yield return ["shell", Json(new { command = "echo", timeout_seconds = 0 })];
    }

    [Theory]
    [MemberData(nameof(RejectedBodies))]
    public async Task HostileBodyIsRejectedWithValidationFailedAndCreatesNothing(string kind, string body)
    {
        var before = await fixture.Host.Database.ScalarAsync<long>("SELECT count(*) FROM commands");
        var response = await Post(kind, Encoding.UTF8.GetBytes(body));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(before, await fixture.Host.Database.ScalarAsync<long>("SELECT count(*) FROM commands"));
        Assert.False(File.Exists(Path.Combine(fixture.Workspace, "pwned")));
    }

    [Fact]
    public async Task InvalidUtf8IsRejected()
    {
        var body = Encoding.UTF8.GetBytes("""{"command":"echo X"}""");
        body[Array.IndexOf(body, (byte)'X')] = 0xC3; // a lead byte with no continuation
        var response = await Post("shell", body);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }

    public static IEnumerable<object[]> LiteralArguments() =>
        new[]
        {
            "$(touch pwned)", "`touch pwned`", "; touch pwned", "| touch pwned", "&& touch pwned", "\ntouch pwned",
            "'; touch pwned; '", "\"; touch pwned; \"", "${IFS}touch${IFS}pwned", "*", "~", "-rf", "--help", "$HOME",
            "a\tb", "ünïcødé ✓", "\\", "%s%n", ">pwned", "<(touch pwned)",
        }.Select(text => new object[] { text });

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(LiteralArguments))]
    public async Task MetacharactersInAPromptOrGitArgumentAreDeliveredLiterally(string text)
    {
        var claude = await CommandsHost.StartAsync(fixture.Api, "target", "claude", new { prompt = text });
        await CommandsHost.WaitForFinalAsync(fixture.Api, claude.GetProperty("id").GetString()!);
        Assert.Equal(text, FakeClaude.ReadPrompt(fixture.Workspace));

        var git = await CommandsHost.StartAsync(fixture.Api, "target", "git", new { args = new[] { "log", "--format=" + text } });
        await CommandsHost.WaitForFinalAsync(fixture.Api, git.GetProperty("id").GetString()!);
        Assert.False(File.Exists(Path.Combine(fixture.Workspace, "pwned")));
    }

    private async Task<HttpResponseMessage> Post(string kind, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await fixture.Api.PostAsync($"/api/v1/projects/target/{kind}", content);
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
