using System.Text;
using Rdev.Api.Execution;

namespace Rdev.Tests.Execution;

public static class RunningProcessOutput
{
    /// <summary>Reads a process's output to its end, split by stream and decoded, within <paramref name="timeout"/>.</summary>
    public static async Task<(string Stdout, string Stderr)> ReadAllAsync(this IRunningProcess process, TimeSpan timeout)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        using var cts = new CancellationTokenSource(timeout);
        await foreach (var chunk in process.ReadOutputAsync(cts.Token))
        {
            (chunk.Stream == OutputStream.Stdout ? stdout : stderr).Write(chunk.Data.Span);
        }

        return (Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
