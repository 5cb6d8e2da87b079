using System.Text;
using Rdev.Api.Commands;
using Rdev.Api.Execution;

namespace Rdev.Tests.Commands;

/// <summary>The positions a stored batch carries: re-attaching there stores nothing twice and splits no character or Claude line.</summary>
public sealed class OutputProcessorTests
{
    [Fact]
    public void ACharacterSplitAcrossAReattachIsStoredWholeExactlyOnce()
    {
        var bytes = Encoding.UTF8.GetBytes("ab€cd");
        var first = new OutputProcessor(parseClaude: false, maxOutputBytes: 1000);
        var events = new List<(string Type, string Data)>();
        first.Process(new OutputChunk(OutputStream.Stdout, bytes.AsMemory(0, 3)), events); // "ab" and the euro sign's first byte

        // The replica dies here; the next one resumes from the stored position with the stored byte count.
        var next = new OutputProcessor(false, 1000, first.Position, first.OutputBytes);
        next.Process(new OutputChunk(OutputStream.Stdout, bytes.AsMemory((int)first.Position.Stdout)), events);
        next.Complete(events);

        Assert.Equal(new RunOffsets(2, 0), first.Position);
        Assert.Equal("ab€cd", string.Concat(events.Select(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString())));
        Assert.Equal(bytes.Length, next.OutputBytes);
        Assert.Equal(0, next.Replaced);
    }

    [Fact]
    public void AClaudeLineWithoutItsNewlineIsReadAgainAfterAReattach()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"type\":\"system\",\"session_id\":\"s1\"}\n{\"type\":\"result\",\"session_id\":\"s1\",\"num_turns\":2}\n");
        var cut = bytes.Length - 10;
        var first = new OutputProcessor(parseClaude: true, maxOutputBytes: 1000);
        var events = new List<(string Type, string Data)>();
        first.Process(new OutputChunk(OutputStream.Stdout, bytes.AsMemory(0, cut)), events);
        Assert.Single(events);

        var next = new OutputProcessor(true, 1000, first.Position, first.OutputBytes);
        next.Process(new OutputChunk(OutputStream.Stdout, bytes.AsMemory((int)first.Position.Stdout)), events);
        next.Complete(events);

        Assert.Equal([EventTypes.Claude, EventTypes.Claude], events.Select(e => e.Type));
        Assert.Equal(2, next.Claude?.NumTurns);
        Assert.Equal(bytes.Length, next.OutputBytes);
    }
}
