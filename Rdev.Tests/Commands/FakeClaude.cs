using System.Text.Json;

namespace Rdev.Tests.Commands;

/// <summary>
/// A stand-in for the <c>claude</c> program: prints realistic <c>--output-format stream-json --verbose</c> lines
/// (system/init, assistant tool use, user tool_result, a non-JSON line, assistant text, result with cost and session
/// id), honours <c>--resume</c>, and leaves the first line it read on stdin (the prompt as a stream-json <c>user</c>
/// message, see <see cref="ReadPrompt"/>) in <c>.fake-claude-prompt</c> and its arguments, one a line, in
/// <c>.fake-claude-args</c> in its working folder.
/// Given the prompt <see cref="UnstorablePrompt"/> it prints what PostgreSQL cannot store instead: a raw NUL byte,
/// invalid UTF-8, and stream-json strings with the escapes <c>\u0000</c> and a lone <c>\ud800</c>.
/// </summary>
public static class FakeClaude
{
    public const string DefaultSession = "0f8fad5b-d9cb-469f-a165-70867728950e";

    public const string UnstorablePrompt = "print unstorable output";

    private const string Script = """
        #!/bin/sh
        session=0f8fad5b-d9cb-469f-a165-70867728950e
        printf '%s\n' "$@" > .fake-claude-args
        while [ $# -gt 0 ]; do
          case "$1" in
            --resume) session="$2"; shift 2 ;;
            *) shift ;;
          esac
        done
        IFS= read -r prompt
        printf '%s' "$prompt" > .fake-claude-prompt
        if [ "$prompt" = '{"type":"user","message":{"role":"user","content":"print unstorable output"}}' ]; then
          echo '{"type":"system","subtype":"init","session_id":"'"$session"'","tools":["Bash"],"model":"claude-sonnet-4-5"}'
          printf 'raw \000 nul and bad \377 utf-8\n'
          printf '%s\n' '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"nul \u0000 lone \ud800 pair \ud83d\ude00"}]},"session_id":"'"$session"'"}'
          printf '%s\n' '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done \u0000 \udc00","session_id":"s\u0000\ud800","total_cost_usd":0.01}'
          exit 0
        fi
        echo '{"type":"system","subtype":"init","session_id":"'"$session"'","tools":["Bash","Read"],"model":"claude-sonnet-4-5"}'
        echo '{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},"session_id":"'"$session"'"}'
        echo '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"README.md"}]},"session_id":"'"$session"'"}'
        echo 'progress: not a JSON line'
        echo '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Done."}]},"session_id":"'"$session"'"}'
        echo '{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"num_turns":2,"result":"Done.","session_id":"'"$session"'","total_cost_usd":0.0123}'
        """;

    /// <summary>The prompt the fake read in <paramref name="workspace"/>: the content of its first stdin line.</summary>
    public static string ReadPrompt(string workspace)
    {
        using var line = JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace, ".fake-claude-prompt")));
        Assert.Equal("user", line.RootElement.GetProperty("type").GetString());
        return line.RootElement.GetProperty("message").GetProperty("content").GetString()!;
    }

    /// <summary>Writes the program into <paramref name="folder"/> and returns its path.</summary>
    public static string Install(string folder)
    {
        var path = Path.Combine(folder, "fake-claude");
        File.WriteAllText(path, Script.Replace("\r", ""));
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }
}

/// <summary>Runs commands whose output PostgreSQL cannot store as printed, on whichever runtime the project uses.</summary>
public static class UnstorableOutput
{
    /// <summary>
    /// Five claude commands (the project's limit) print NUL, invalid UTF-8, <c>\u0000</c> and lone surrogates: each
    /// ends <c>succeeded</c> with U+FFFD in their place, and then the slots are free, so a sixth is accepted. A
    /// shell command printing a raw NUL and invalid UTF-8 is stored the same way.
    /// </summary>
    public static async Task StoredWithReplacementsAndSlotsFreedAsync(HttpClient api, string project)
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var started = await CommandsHost.StartAsync(api, project, "claude", new { prompt = FakeClaude.UnstorablePrompt });
            ids.Add(started.GetProperty("id").GetString()!);
        }

        foreach (var id in ids)
        {
            var record = await CommandsHost.WaitForFinalAsync(api, id);
            Assert.Equal("succeeded", record.GetProperty("status").GetString());
            Assert.Equal("done \uFFFD \uFFFD", record.GetProperty("result").GetString());
            Assert.Equal("s\uFFFD\uFFFD", record.GetProperty("session_id").GetString());
        }

        var events = await CommandsHost.ReadStreamAsync(api, ids[0]);
        var assistant = events.Where(e => e.EventType == "claude").Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Single(e => e.GetProperty("type").GetString() == "assistant");
        Assert.Equal("nul \uFFFD lone \uFFFD pair \U0001F600",
            assistant.GetProperty("message").GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("raw \uFFFD nul and bad \uFFFD utf-8\n", CommandsHost.OutputOf(events));
        Assert.DoesNotContain('\0', await api.GetStringAsync($"/api/v1/commands/{ids[0]}/output"));

        // The sixth command of a project limited to five: accepted, because the five gave their slots back.
        var shell = await CommandsHost.StartAsync(api, project, "shell", new { command = @"printf 'a\000b \377 \355\240\200 c\n'" });
        var shellId = shell.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await CommandsHost.WaitForFinalAsync(api, shellId)).GetProperty("status").GetString());
        var text = CommandsHost.OutputOf(await CommandsHost.ReadStreamAsync(api, shellId));
        Assert.StartsWith("a\uFFFDb \uFFFD ", text);
        Assert.EndsWith(" c\n", text);
        Assert.DoesNotContain('\0', text);
    }
}
