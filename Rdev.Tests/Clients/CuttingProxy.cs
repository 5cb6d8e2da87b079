namespace Rdev.Tests.Clients;

/// <summary>
/// An in-process stand-in for a load balancer in front of the replicas: it sends each request to the current
/// <see cref="Target"/>, and <see cref="Cut"/> drops every event stream it is relaying (their reads fail as a reset
/// socket's do), so a test can cut a client's connection mid-stream and move its traffic to another replica.
/// </summary>
public sealed class CuttingProxy(HttpMessageHandler target) : HttpMessageHandler
{
    private readonly Lock gate = new();
    private HttpMessageInvoker invoker = new(target, disposeHandler: false);
    private CancellationTokenSource cut = new();

    public int Cuts { get; private set; }

    public HttpMessageHandler Target
    {
        set
        {
            lock (gate)
            {
                invoker = new HttpMessageInvoker(value, disposeHandler: false);
            }
        }
    }

    /// <summary>Drops the streams open now; later requests go through.</summary>
    public void Cut()
    {
        lock (gate)
        {
            cut.Cancel();
            cut = new CancellationTokenSource();
            Cuts++;
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpMessageInvoker current;
        CancellationToken dropped;
        lock (gate)
        {
            (current, dropped) = (invoker, cut.Token);
        }

        var response = await current.SendAsync(request, cancellationToken);
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return response;
        }

        var relayed = new StreamContent(new DroppableStream(await response.Content.ReadAsStreamAsync(cancellationToken), dropped));
        foreach (var header in response.Content.Headers)
        {
            relayed.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = relayed;
        return response;
    }

    private sealed class DroppableStream(Stream inner, CancellationToken dropped) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, dropped);
            try
            {
                dropped.ThrowIfCancellationRequested();
                return await inner.ReadAsync(buffer, both.Token);
            }
            catch (OperationCanceledException) when (dropped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new IOException("The connection was reset by the proxy.");
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
