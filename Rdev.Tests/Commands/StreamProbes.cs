using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Commands;

/// <summary>
/// The stream metrics one replica reports (what its <c>/metrics</c> shows), read in process: replicas in one test
/// process share meter names, so only the instruments of <paramref name="replica"/>'s own meter factory are counted.
/// </summary>
public sealed class ReplicaMeters : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<string, long> values = new();

    public ReplicaMeters(ApiFactory replica)
    {
        var scope = replica.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, scope) && instrument.Name.StartsWith("rdev_sse_", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var reason = tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value as string;
            var key = reason is null ? instrument.Name : $"{instrument.Name}|{reason}";
            if (instrument is ObservableGauge<long>)
            {
                values[key] = value;
            }
            else
            {
                values.AddOrUpdate(key, value, (_, total) => total + value);
            }
        });
        listener.Start();
    }

    /// <summary>rdev_sse_store_reads_total: pages of stored events this replica read from PostgreSQL.</summary>
    public long StoreReads => Value("rdev_sse_store_reads_total");

    /// <summary>rdev_sse_store_read_bytes_total: bytes of those pages.</summary>
    public long StoreReadBytes => Value("rdev_sse_store_read_bytes_total");

    /// <summary>rdev_sse_cache_bytes: what this replica holds in memory for its streams.</summary>
    public long CacheBytes
    {
        get
        {
            listener.RecordObservableInstruments();
            return Value("rdev_sse_cache_bytes");
        }
    }

    /// <summary>rdev_sse_streams_closed_total{reason}.</summary>
    public long Closed(string reason) => Value($"rdev_sse_streams_closed_total|{reason}");

    private long Value(string key) => values.TryGetValue(key, out var value) ? value : 0;

    public void Dispose() => listener.Dispose();
}

/// <summary>
/// An EventSource-like client on a real socket with a small receive buffer, that reads only when told to: a client
/// that stops reading fills its socket within a few KiB, so the server feels it at once.
/// </summary>
public sealed class PausableStream : IAsyncDisposable
{
    private readonly HttpClient client;
    private readonly HttpResponseMessage response;
    private readonly IAsyncEnumerator<SseItem<string>> items;

    private PausableStream(HttpClient client, HttpResponseMessage response, SseParser<string> parser)
    {
        this.client = client;
        this.response = response;
        Parser = parser;
        items = parser.EnumerateAsync().GetAsyncEnumerator();
    }

    public SseParser<string> Parser { get; }

    public List<SseItem<string>> Received { get; } = [];

    /// <summary>True once the server closed the stream cleanly.</summary>
    public bool Ended { get; private set; }

    /// <summary>True once the connection broke off (aborted by the server) instead of ending cleanly.</summary>
    public bool Cut { get; private set; }

    public static async Task<PausableStream> OpenAsync(ApiFactory replica, string key, string id, long? lastEventId = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new HttpClient(handler) { BaseAddress = replica.CreateClient().BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/commands/{id}/stream");
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(CultureInfo.InvariantCulture));
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStreamAsync();
        return new PausableStream(client, response, SseParser.Create(body));
    }

    /// <summary>Reads until <paramref name="count"/> events arrived or the stream ended.</summary>
    public async Task ReadAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (var i = 0; i < count && !Ended && !Cut; i++)
        {
            try
            {
                if (await items.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
                {
                    Received.Add(items.Current);
                }
                else
                {
                    Ended = true;
                }
            }
            catch (IOException)
            {
                Cut = true;
                return;
            }
        }
    }

    public Task ReadToEndAsync() => ReadAsync(int.MaxValue);

    public long LastId => long.Parse(Received.Last(e => e.EventId is not null).EventId!, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await items.DisposeAsync();
        }
        catch (IOException)
        {
            // The server may have aborted the connection.
        }

        response.Dispose();
        client.Dispose();
    }
}
