namespace Rdev.Tests.Commands;

/// <summary>
/// A stand-in for the <c>claude</c> program: prints realistic <c>--output-format stream-json --verbose</c> lines
/// (system/init, assistant tool use, user tool_result, a non-JSON line, assistant text, result with cost and session
/// id), honours <c>--resume</c>, and leaves the prompt it received in <c>.fake-claude-prompt</c> in its working folder.
/// </summary>
public static class FakeClaude
{
    public const string DefaultSession = "0f8fad5b-d9cb-469f-a165-70867728950e";

    private const string Script = """
        #!/bin/sh
        session=0f8fad5b-d9cb-469f-a165-70867728950e
        while [ $# -gt 0 ]; do
          case "$1" in
            --resume) session="$2"; shift 2 ;;
            --) shift; break ;;
            *) shift ;;
          esac
        done
        printf '%s' "$1" > .fake-claude-prompt
        echo '{"type":"system","subtype":"init","session_id":"'"$session"'","tools":["Bash","Read"],"model":"claude-sonnet-4-5"}'
        echo '{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},"session_id":"'"$session"'"}'
        echo '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"README.md"}]},"session_id":"'"$session"'"}'
        echo 'progress: not a JSON line'
        echo '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Done."}]},"session_id":"'"$session"'"}'
        echo '{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"num_turns":2,"result":"Done.","session_id":"'"$session"'","total_cost_usd":0.0123}'
        """;

    /// <summary>Writes the program into <paramref name="folder"/> and returns its path.</summary>
    public static string Install(string folder)
    {
        var path = Path.Combine(folder, "fake-claude");
        File.WriteAllText(path, Script.Replace("\r", ""));
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }
}
