using System.Threading.Channels;
using k8s;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// Drains a KubernetesClient watch in the background so a test can await events one by one with a timeout,
/// and keeps what onError reported and how the stream ended.
/// </summary>
public sealed class WatchRecorder<T> : IAsyncDisposable
{
    private readonly Channel<(WatchEventType Type, T Object)> events = Channel.CreateUnbounded<(WatchEventType, T)>();
    private readonly CancellationTokenSource stop = new();
    private readonly List<Exception> errors = [];

    private WatchRecorder(Func<Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
    {
        Completion = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watch(OnError, stop.Token))
                {
                    events.Writer.TryWrite(e);
                }
            }
            finally
            {
                events.Writer.TryComplete();
            }
        });
    }

    /// <summary>Ends when the server closes the stream; faults with what the client threw.</summary>
    public Task Completion { get; }

    public IReadOnlyList<Exception> Errors
    {
        get { lock (errors) { return [.. errors]; } }
    }

    public static WatchRecorder<T> Start(Func<Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch) => new(watch);

    /// <summary>The next event; throws TimeoutException if none arrives in time.</summary>
    public async Task<(WatchEventType Type, T Object)> NextAsync(TimeSpan timeout) =>
        await events.Reader.ReadAsync().AsTask().WaitAsync(timeout);

    /// <summary>The next event that is not a BOOKMARK.</summary>
    public async Task<(WatchEventType Type, T Object)> NextChangeAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var e = await events.Reader.ReadAsync(cts.Token);
            if (e.Item1 != WatchEventType.Bookmark)
            {
                return e;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Cancelling a watch surfaces as an exception from the enumerator; nothing to assert here.
        }
        stop.Dispose();
    }

    private void OnError(Exception e)
    {
        lock (errors)
        {
            errors.Add(e);
        }
    }
}
