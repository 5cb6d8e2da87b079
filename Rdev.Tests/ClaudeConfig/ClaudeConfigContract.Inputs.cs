using System.Net;
using System.Text.Json;
using Rdev.Tests.Infrastructure;
using static Rdev.Tests.ClaudeConfig.ConfigTestKit;

namespace Rdev.Tests.ClaudeConfig;

/// <summary>Hostile names and content: 400 and nothing written, or written byte for byte and nothing run.</summary>
public abstract partial class ClaudeConfigContract<THost>
{
    [Fact]
    public async Task ShellMetacharactersQuotesAndCrlfArriveByteForByteAndRunNothing()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var content = "---\r\ndescription: \"$(touch pwned) `touch pwned`\"\r\n---\r\n" +
            "$(touch pwned) `touch pwned` ; rm -rf pwned | cat > pwned & echo ${IFS} $HOME \\ 'single' \"double\" %s %n\r\n" +
            "\t tabs, unicode: é 日本 \U0001F600, a lone CR\r and a final LF\n";

        var (body, etag) = await CreateAsync(Host.Api, project, "commands", "meta", content);
        var (read, _) = await GetAsync(Host.Replica, project, "commands", "meta");

        Assert.Equal(Utf8(content), await File.ReadAllBytesAsync(ItemFile(workspace, "commands", "meta")));
        Assert.Equal(content, read.GetProperty("content").GetString());
        Assert.Equal("$(touch pwned) `touch pwned`", read.GetProperty("front_matter").GetProperty("description").GetString());
        Assert.Equal(ETagOf(Utf8(content)), etag);
        Assert.Equal(Utf8(content).Length, body.GetProperty("size").GetInt32());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(Host.Outside)!, "pwned*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ContentUpTo256KibIsAcceptedAndOneByteMoreIsNot()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        // 'é' is two bytes of UTF-8: the limit counts bytes, not characters.
        var exact = new string('é', 128 * 1024);
        var over = exact[..^1] + "abc";

        var (body, _) = await CreateAsync(Host.Api, project, "agents", "big", exact);
        var rejected = await Host.Api.PostAsync(Url(project, "agents"), JsonContent(new { name = "bigger", content = over }));

        Assert.Equal(256 * 1024, body.GetProperty("size").GetInt32());
        Assert.Equal(Utf8(exact), await File.ReadAllBytesAsync(ItemFile(workspace, "agents", "big")));
        var problem = await rejected.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains("262144", problem.GetProperty("errors").GetProperty("content")[0].GetString());
        Assert.False(File.Exists(ItemFile(workspace, "agents", "bigger")));
    }

    [Fact]
    public async Task AMillionByteBodyNulBytesInvalidUtf8AndLoneSurrogatesAre400AndWriteNothing()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var url = Url(project, "commands");

        var million = await Host.Api.PostAsync(url, JsonContent(new { name = "million", content = new string('x', 1_000_000) }));
        var nul = await Host.Api.PostAsync(url, JsonContent(new { name = "nul", content = "a\0b" }));
        var invalidUtf8 = await SendRawAsync(Host.Api, HttpMethod.Post, url, [.. "{\"name\":\"bin\",\"content\":\""u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\"}"u8]);
        var surrogate = await SendRawAsync(Host.Api, HttpMethod.Post, url, Utf8("{\"name\":\"sur\",\"content\":\"a\\ud800b\"}"));
        var notJson = await SendRawAsync(Host.Api, HttpMethod.Post, url, Utf8("{\"name\":"));
        var missing = await Host.Api.PostAsync(url, JsonContent(new { name = "empty" }));

        foreach (var response in new[] { million, nul, invalidUtf8, surrogate, notJson, missing })
        {
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        }

        Assert.Contains("NUL", (await nul.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task MalformedFrontMatterIs400WithTheParsersLineAndColumn()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        var content = "---\ndescription: fine\nallowed-tools: [Read, Grep\nmodel: sonnet\n---\nbody\n";

        var response = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "broken", content }));
        var unclosed = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "open", content = "---\ndescription: x\nbody" }));
        var duplicate = await Host.Api.PostAsync(Url(project, "skills"), JsonContent(new { name = "dup", content = "---\na: 1\na: 2\n---\n" }));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        var message = problem.GetProperty("errors").GetProperty("content")[0].GetString()!;
        Assert.Matches(@"^Front matter is not valid YAML at line 3, column \d+: ", message);
        Assert.Contains("line 1, column 1", (await unclosed.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).ToString());
        Assert.Contains("line 3, column 1: The key 'a' appears twice.",
            (await duplicate.AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).ToString());
        Assert.False(Directory.Exists(Path.Combine(workspace, ".claude")));
    }

    [Fact]
    public async Task AHundredHostileNamesAre400AndNothingIsWrittenAnywhere()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        await CreateAsync(Host.Api, project, "commands", "existing", "keep me");
        var before = Snapshot(Host.Root.FullName);
        Assert.True(HostileNames.All.Count >= 100, $"{HostileNames.All.Count} names");

        var failures = new List<string>();
        foreach (var name in HostileNames.All)
        {
            foreach (var type in Types)
            {
                var posted = await Host.Api.PostAsync(Url(project, type), JsonContent(new { name, content = "pwned" }));
                Check(posted.StatusCode, posted.Content.Headers.ContentType?.MediaType, $"POST {type} {JsonSerializer.Serialize(name)}");
                if (name.Length == 0)
                {
                    continue; // An empty segment names the collection, not an item.
                }

                foreach (var method in new[] { "GET", "PUT", "DELETE" })
                {
                    var (status, contentType) = await Host.SendExactAsync(method, Url(project, type) + "/" + Uri.EscapeDataString(name),
                        method == "PUT" ? """{"content":"pwned"}""" : null);
                    Check(status, contentType, $"{method} {type} {JsonSerializer.Serialize(name)}");
                }
            }
        }

        Assert.Empty(failures);
        Assert.Equal(before, Snapshot(Host.Root.FullName));
        Assert.Equal("keep me", await File.ReadAllTextAsync(ItemFile(workspace, "commands", "existing")));

        void Check(HttpStatusCode status, string? contentType, string what)
        {
            if (status != HttpStatusCode.BadRequest || contentType != "application/problem+json")
            {
                failures.Add($"{what}: {(int)status} {contentType}");
            }
        }
    }

    [Fact]
    public async Task ASymbolicLinkOnTheItemsPathIsRefusedAndNothingOutsideChanges()
    {
        var (project, workspace) = await Host.AddProjectAsync();
        Directory.CreateDirectory(Path.Combine(workspace, ".claude"));
        Directory.CreateSymbolicLink(Path.Combine(workspace, ".claude/agents"), Host.Outside);
        Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands"));
        File.CreateSymbolicLink(Path.Combine(workspace, ".claude/commands/keep.md"), Path.Combine(Host.Outside, "keep.txt"));
        var before = Snapshot(Host.Outside);

        var created = await Host.Api.PostAsync(Url(project, "agents"), JsonContent(new { name = "keep", content = new string('p', 250_000) }));
        var listed = await Host.Api.GetAsync(Url(project, "agents"));
        var read = await Host.Api.GetAsync(Url(project, "commands", "keep"));
        // Large enough that the script refuses before the content has all been sent.
        var replaced = await SendAsync(Host.Api, HttpMethod.Put, Url(project, "commands", "keep"), new { content = new string('p', 250_000) }, ifMatch: "*");
        var deleted = await SendAsync(Host.Api, HttpMethod.Delete, Url(project, "commands", "keep"));
        // Not a link but a folder where the file belongs: the write refuses, possibly before it has read its stdin.
        Directory.CreateDirectory(Path.Combine(workspace, ".claude/commands/folder.md"));
        var shadowed = await Host.Api.PostAsync(Url(project, "commands"), JsonContent(new { name = "folder", content = new string('p', 250_000) }));

        await created.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await listed.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        await read.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (replaced.Status, deleted.Status));
        await shadowed.AssertProblemAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(workspace, ".claude/commands/folder.md")));
        Assert.Empty(TemporaryFiles(workspace));
        Assert.Equal(before, Snapshot(Host.Outside));
        Assert.Equal("untouched", await File.ReadAllTextAsync(Path.Combine(Host.Outside, "keep.txt")));
    }
}
