using System.Threading.Channels;

namespace Rdev.Cli.Streaming;

/// <summary>
/// Lines typed on stdin, read by one background thread so that the Ctrl+C question and a kept-open session's follow-up
/// never compete for the same line. A null line is the end of input.
/// </summary>
public static class ConsoleLines
{
    private static readonly Lazy<ChannelReader<string?>> Lines = new(Start);

    public static async Task<string?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await Lines.Value.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null; // The end of input was read before.
        }
    }

    private static ChannelReader<string?> Start()
    {
        var channel = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleWriter = true });
        var thread = new Thread(() =>
        {
            string? line;
            do
            {
                line = Console.In.ReadLine();
                channel.Writer.TryWrite(line);
            }
            while (line is not null);
            channel.Writer.TryComplete();
        }) { IsBackground = true, Name = "stdin" };
        thread.Start();
        return channel.Reader;
    }
}
