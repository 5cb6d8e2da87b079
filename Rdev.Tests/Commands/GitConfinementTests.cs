using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// A key with commands:run attacks the files around its project through git, on the local runtime with real git: a
/// sibling project's secret, a secret beside the projects root and the API process's environment. None of it may be
/// read or written; ordinary git usage still works end to end.
/// </summary>
[Trait("Category", "Slow")]
public sealed class GitConfinementTests(GitConfinementTests.Fixture fixture) : IClassFixture<GitConfinementTests.Fixture>
{
    private const string SiblingSecret = "sibling-secret-7f3a9c";
    private const string BesideSecret = "beside-secret-2d81e4";

    public sealed class Fixture : IAsyncLifetime
    {
        public CommandsHost Host { get; } = new();
        public HttpClient Api { get; private set; } = null!;
        public string Workspace { get; private set; } = null!;

        /// <summary>A file next to the projects root, outside every project.</summary>
        public string Beside { get; } = Path.Combine(Path.GetTempPath(), $"rdev-beside-{Guid.NewGuid():N}.txt");

        /// <summary>Where a write outside would land; must never exist.</summary>
        public string Canary { get; } = Path.Combine(Path.GetTempPath(), $"rdev-canary-{Guid.NewGuid():N}");

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            File.WriteAllText(Beside, BesideSecret);
            var other = Directory.CreateDirectory(Path.Combine(Host.Root.FullName, "other")).FullName;
            File.WriteAllText(Path.Combine(other, "secret.txt"), SiblingSecret);
            var remote = Path.Combine(Host.Root.FullName, "remote.git");
            Git(Host.Root.FullName, "init", "-q", "--bare", "-b", "main", remote);

            Api = Host.StartApi();
            Workspace = await Host.AddProjectAsync("target", maxConcurrent: 1000);
            InitRepository(Workspace);
            Git(Workspace, "remote", "add", "origin", remote);
            CommitReadme(Workspace, "hello from the work tree\n", "first");
            await CommandsHost.WaitForProjectAsync(Api, "target");
        }

        public async Task DisposeAsync()
        {
            File.Delete(Beside);
            await Host.DisposeAsync();
        }
    }

    /// <summary>What the test process's environment holds that must never come out (the database password).</summary>
    private static string EnvironmentSecret => new NpgsqlConnectionStringBuilder(PostgresDatabase.ServerConnectionString).Password!;

    // Each row is named by its number and its words: xunit shortens long values in test names, and rows that then read
    // the same would be run once only.
    public static IEnumerable<object[]> Attacks() =>
        AttackArguments().Select((args, row) => new object[] { $"{row}: {string.Join(' ', args)}", args });

    private static IEnumerable<string[]> AttackArguments()
    {
        const string beside = "{beside}";
        const string environ = "{environ}";
        const string canary = "{canary}";
        string[][] everywhere =
        [
            [beside], ["--", beside], ["../other/secret.txt"], ["--", "../other/secret.txt"], ["HEAD:../other/secret.txt"],
            ["HEAD:" + beside], [":(top)../other/secret.txt"], [":/"], [":(glob)../**"], ["./../other/secret.txt"],
            ["--pathspec-from-file=" + environ], ["--pathspec-from-file", environ], ["--pathspec-f=" + environ],
            ["--output=" + canary], ["--outp=" + canary], ["--output", "../pwned"], ["-O" + beside], ["-O", beside],
            ["--no-index", "/dev/null", beside], ["--no-i", "/dev/null", beside], ["-F", beside], ["--file=" + beside],
            ["-t", beside], ["--template=" + beside], ["--ext-diff"], ["--textconv"], ["--exec=touch " + canary],
            ["-ccore.pager=touch " + canary], ["-C", "/"], ["--git-dir=" + Path.GetTempPath()], ["--work-tree=/"],
            ["--exclude-from=" + beside], ["-X", beside], ["~/secret"], ["--end-of-options", beside],
        ];
        string[][] extra =
        [
            ["diff", "/dev/null", beside], ["diff", "/dev/null", "../other/secret.txt"], ["diff", "--stat", "--", "../other"],
            ["show", "HEAD:../other/secret.txt"], ["log", "-p", "--", "../other/secret.txt"],
            ["rev-parse", "--resolve-git-dir", beside], ["rev-parse", "--git-path", "../x"],
            ["commit", "-F", environ], ["commit", "--file", beside], ["commit", "-C", "HEAD"], ["commit", "-mx", "--", beside],
            ["checkout", "HEAD", "--", "../other/secret.txt"], ["restore", "--source=HEAD", "--", beside],
            ["stash", "push", "--pathspec-from-file=" + environ], ["stash", "show", "-p", beside],
            ["ls-files", "--exclude-per-directory=secret.txt"], ["add", "--", "../other/secret.txt"],
            ["branch", "--edit-description"], ["switch", "-c", "../x"], ["checkout", "-b", "/x"],
            ["fetch", beside], ["fetch", "../other"], ["fetch", "file://" + beside], ["pull", "https://example.invalid/x"],
            ["push", "ext::sh -c touch% " + canary], ["pull", "fd::17"], ["fetch", "origin", "--upload-pack=touch " + canary],
            ["push", "origin", "--receive-pack=touch " + canary], ["push", "origin", "HEAD:../../x"], ["push", "--repo=" + beside],
            ["fetch", "-u", "touch " + canary], ["push", "origin", "--", beside], ["remote", "add", "x", beside],
        ];
        foreach (var subcommand in new[]
        {
            "status", "diff", "log", "show", "branch", "checkout", "switch", "add", "restore", "commit", "fetch", "pull",
            "push", "stash", "rev-parse", "ls-files", "remote",
        })
        {
            foreach (var attack in everywhere)
            {
                yield return [subcommand, .. attack];
            }
        }

        foreach (var attack in extra)
        {
            yield return attack;
        }
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task AnAttackReadsAndWritesNothingOutsideTheWorkTree(string attack, string[] template)
    {
        var args = template.Select(a => a.Replace("{beside}", fixture.Beside).Replace("{canary}", fixture.Canary)
            .Replace("{environ}", $"/proc/{Environment.ProcessId}/environ")).ToArray();
        var outside = Snapshot();

        var response = await fixture.Api.PostAsJsonAsync("/api/v1/projects/target/git", new { args });
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var id = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            await CommandsHost.WaitForFinalAsync(fixture.Api, id);
            text += await fixture.Api.GetStringAsync($"/api/v1/commands/{id}/output");
        }

        Assert.DoesNotContain(SiblingSecret, text);
        Assert.DoesNotContain(BesideSecret, text);
        Assert.DoesNotContain(EnvironmentSecret, text);
        Assert.Equal(outside, Snapshot());
        Assert.False(File.Exists(fixture.Canary) || Directory.Exists(fixture.Canary));
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"row {attack}, git {string.Join(' ', args)}, was accepted: {text}");
        Assert.Contains("VALIDATION_FAILED", text);
    }

    /// <summary>Every file outside the work tree under the projects root, with its size and time.</summary>
    private string Snapshot() => string.Join('\n', Directory
        .EnumerateFileSystemEntries(fixture.Host.Root.FullName, "*", SearchOption.AllDirectories)
        .Where(path => !path.StartsWith(fixture.Workspace, StringComparison.Ordinal))
        .Select(path => new FileInfo(path))
        .Select(file => $"{file.FullName} {(file.Exists ? file.Length : -1)} {file.LastWriteTimeUtc.Ticks}")
        .Order());

    [Fact]
    public async Task OrdinaryGitUsageStillWorksEndToEnd()
    {
        string[][] steps =
        [
            ["status", "--short"], ["status", "-sb"], ["log", "--oneline", "-n", "5"], ["log", "-5", "--format=%h %s"],
            ["rev-parse", "--abbrev-ref", "HEAD"], ["ls-files"], ["remote", "-v"], ["branch", "--show-current"],
            ["diff", "--stat"], ["add", "."], ["commit", "-m", "add notes (see ../docs)"], ["checkout", "-b", "topic"],
            ["show", "HEAD:README.md"], ["show", "--stat", "HEAD"], ["diff", "HEAD~1", "--", "notes.txt"],
            ["log", "HEAD~1..topic", "--oneline"], ["push", "-u", "origin", "topic"], ["fetch", "origin"],
            ["pull", "--ff-only", "origin", "topic"], ["stash", "push", "-m", "wip"], ["stash", "list"], ["stash", "pop"],
            ["restore", "--staged", "notes.txt"], ["switch", "main"], ["branch", "-a"], ["diff", "HEAD~1", "topic", "--name-only"],
        ];
        var expected = new Dictionary<int, string>
        {
            [4] = "main", [5] = "README.md", [6] = "origin", [12] = "hello from the work tree", [13] = "notes.txt",
            [15] = "add notes", [20] = "wip", [24] = "remotes/origin/topic", [25] = "notes.txt",
        };

        for (var i = 0; i < steps.Length; i++)
        {
            if (steps[i] is ["diff", "--stat"])
            {
                File.WriteAllText(Path.Combine(fixture.Workspace, "notes.txt"), "notes\n");
            }
            else if (steps[i] is ["stash", "push", ..])
            {
                File.AppendAllText(Path.Combine(fixture.Workspace, "notes.txt"), "more\n");
                Git(fixture.Workspace, "add", "notes.txt");
            }

            var started = await CommandsHost.StartAsync(fixture.Api, "target", "git", new { args = steps[i] });
            var id = started.GetProperty("id").GetString()!;
            var record = await CommandsHost.WaitForFinalAsync(fixture.Api, id);
            var output = await fixture.Api.GetStringAsync($"/api/v1/commands/{id}/output");
            Assert.True(record.GetProperty("status").GetString() == "succeeded", $"git {string.Join(' ', steps[i])}: {output}");
            if (expected.TryGetValue(i, out var text))
            {
                Assert.Contains(text, output);
            }
        }
    }

    [Fact]
    public async Task CommitWithoutAMessageFailsAtOnceInsteadOfStartingAnEditor()
    {
        var started = await CommandsHost.StartAsync(fixture.Api, "target", "git", new { args = new[] { "commit", "--allow-empty" } });
        var record = await CommandsHost.WaitForFinalAsync(fixture.Api, started.GetProperty("id").GetString()!);
        Assert.Equal("failed", record.GetProperty("status").GetString());
    }

    /// <summary>Makes <paramref name="folder"/> a git work tree on <c>main</c> with a committer identity.</summary>
    internal static void InitRepository(string folder)
    {
        Git(folder, "init", "-q", "-b", "main");
        Git(folder, "config", "user.name", "rdev test");
        Git(folder, "config", "user.email", "test@example.invalid");
    }

    /// <summary>Writes README.md with <paramref name="content"/> and commits everything with <paramref name="message"/>.</summary>
    internal static void CommitReadme(string folder, string content, string message)
    {
        File.WriteAllText(Path.Combine(folder, "README.md"), content);
        Git(folder, "add", ".");
        Git(folder, "commit", "-q", "-m", message);
    }

    internal static void Git(string folder, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = folder, RedirectStandardError = true };
        args.ToList().ForEach(info.ArgumentList.Add);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
    }
}
