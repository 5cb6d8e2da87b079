using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Rdev.Console.Api;

public static class Batches
{
    /// <summary>
    /// The items of <paramref name="source"/> in batches of whatever has arrived: a replay of many events comes as
    /// one batch, so a page can apply it whole and make its API calls once for the state it ends in.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<T>> InBatchesAsync<T>(
        this IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        var pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in source.WithCancellation(ct))
                {
                    await channel.Writer.WriteAsync(item, ct);
                }

                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e is OperationCanceledException ? null : e);
            }
        }, CancellationToken.None);

        while (await channel.Reader.WaitToReadAsync(ct))
        {
            var batch = new List<T>();
            while (batch.Count < 10_000 && channel.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            yield return batch;
        }

        await pump;
    }
}
