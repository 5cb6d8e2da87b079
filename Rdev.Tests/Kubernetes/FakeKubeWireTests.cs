using System.Net;
using System.Net.WebSockets;
using System.Text;
using k8s;

namespace Rdev.Tests.Kubernetes;

/// <summary>Protocol details no client library in this repo exercises on its own: raw exec frames, paging, field selectors.</summary>
public sealed class FakeKubeWireTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private FakeKubeApiServer server = null!;

    public async Task InitializeAsync()
    {
        server = await FakeKubeApiServer.StartAsync().WaitAsync(Timeout);
        server.CreatePod(FakeKubeApiServer.NewPod("default", "shell"));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task ExecPicksV5WhenTheClientOffersV4AndV5()
    {
        var (protocol, frames) = await ExecRawAsync(["v4.channel.k8s.io", "v5.channel.k8s.io"], "echo", "hi");

        Assert.Equal("v5.channel.k8s.io", protocol);
        Assert.Equal("hi\n", Channel(frames, 1));
        Assert.Equal("""{"metadata":{},"status":"Success"}""", Channel(frames, 3));
    }

    [Fact]
    public async Task ExecWithoutASubprotocolStillRunsAndReportsTheExitStatus()
    {
        var (protocol, frames) = await ExecRawAsync([], "sh", "-c", "echo hi; exit 7");

        Assert.Null(protocol);
        Assert.Equal("hi\n", Channel(frames, 1));
        Assert.Contains("\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"7\"}]", Channel(frames, 3), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecOfferingOnlyUnsupportedProtocolsIsRefusedBeforeTheUpgrade()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.Url}/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true");
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        request.Headers.Add("Sec-WebSocket-Protocol", "v3.channel.k8s.io");

        using var response = await http.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("requested protocol(s) are not supported", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecOfV5ClosesStdinOnTheCloseSignal()
    {
        using var socket = await ConnectAsync(["v5.channel.k8s.io"], stdin: true, "cat");
        await socket.SendAsync(Encoding.UTF8.GetBytes("\0piped"), WebSocketMessageType.Binary, true, CancellationToken.None);
        await socket.SendAsync(new byte[] { 255, 0 }, WebSocketMessageType.Binary, true, CancellationToken.None);

        var frames = await ReceiveAllAsync(socket);

        Assert.Equal("piped", Channel(frames, 1));
        Assert.Equal("""{"metadata":{},"status":"Success"}""", Channel(frames, 3));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task ListPagesWithLimitAndContinueAndFiltersByFieldSelector()
    {
        server.CreatePod(FakeKubeApiServer.NewPod("default", "alpha"));
        server.CreatePod(FakeKubeApiServer.NewPod("default", "beta"));
        using var client = server.CreateClient();

        var first = await client.CoreV1.ListNamespacedPodAsync("default", limit: 2).WaitAsync(Timeout);
        var rest = await client.CoreV1.ListNamespacedPodAsync("default", limit: 2, continueParameter: first.Metadata.ContinueProperty).WaitAsync(Timeout);
        var named = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "metadata.name=beta").WaitAsync(Timeout);

        Assert.Equal(["alpha", "beta"], first.Items.Select(p => p.Metadata.Name));
        Assert.Equal(1, first.Metadata.RemainingItemCount);
        Assert.Equal(["shell"], rest.Items.Select(p => p.Metadata.Name));
        Assert.Null(rest.Metadata.ContinueProperty);
        Assert.Equal(["beta"], named.Items.Select(p => p.Metadata.Name));
    }

    private async Task<(string? Protocol, List<byte[]> Frames)> ExecRawAsync(string[] protocols, params string[] command)
    {
        using var socket = await ConnectAsync(protocols, stdin: false, command);
        return (socket.SubProtocol, await ReceiveAllAsync(socket));
    }

    private async Task<ClientWebSocket> ConnectAsync(string[] protocols, bool stdin, params string[] command)
    {
        var socket = new ClientWebSocket();
        foreach (var protocol in protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }
        var query = string.Join("&", command.Select(c => "command=" + Uri.EscapeDataString(c))) + $"&stdin={stdin}&stdout=true&stderr=true".ToLowerInvariant();
        var url = new Uri(server.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/api/v1/namespaces/default/pods/shell/exec?" + query);
        await socket.ConnectAsync(url, CancellationToken.None).WaitAsync(Timeout);
        return socket;
    }

    private static async Task<List<byte[]>> ReceiveAllAsync(ClientWebSocket socket)
    {
        var frames = new List<byte[]>();
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeout);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return frames;
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                frames.Add(message.ToArray());
                message.SetLength(0);
            }
        }
    }

    private static string Channel(List<byte[]> frames, byte channel) =>
        string.Concat(frames.Where(f => f.Length > 0 && f[0] == channel).Select(f => Encoding.UTF8.GetString(f, 1, f.Length - 1)));
}
