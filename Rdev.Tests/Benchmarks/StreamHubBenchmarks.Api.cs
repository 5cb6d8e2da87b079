using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Benchmarks;

public sealed partial class StreamHubBenchmarks
{
    /// <summary>An API process, its client, and its working set sampled every 20 ms.</summary>
    private sealed class Api : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private long peak;

        public Api(ApiProcess process, HttpClient client)
        {
            Process = process;
            Client = client;
            _ = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    _ = WorkingSetMiB;
                    await Task.Delay(20);
                }
            });
        }

        public ApiProcess Process { get; }

        public HttpClient Client { get; }

        public int PoolSize => 20;

        public long WorkingSetMiB
        {
            get
            {
                Process.Process.Refresh();
                var now = Process.Process.WorkingSet64 / 1024 / 1024;
                Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), now));
                return now;
            }
        }

        public long PeakWorkingSetMiB => Interlocked.Read(ref peak);

        public void ResetPeak() => Interlocked.Exchange(ref peak, 0);

        public void Dispose()
        {
            stop.Cancel();
            Client.Dispose();
            Process.Dispose();
        }
    }
}
