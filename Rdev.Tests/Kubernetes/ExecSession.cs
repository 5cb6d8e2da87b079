using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Rdev.Tests.Kubernetes;

/// <summary>
/// One exec over the channel protocol: every binary message starts with its channel byte
/// (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close in v5). Output is pumped concurrently,
/// the status goes on channel 3 after all output, then a normal close.
/// </summary>
internal sealed class ExecSession(WebSocket socket, HttpContext http, FakeExecCall call, bool v5, bool killOnDisconnect)
{
    private const byte StdinChannel = 0, StdoutChannel = 1, StderrChannel = 2, StatusChannel = 3, CloseChannel = 255;
    private const int ChunkSize = 32 * 1024;
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private Process? process;
    private Stream? stdin;
    private volatile bool finished;
    private volatile bool broken;

    public async Task RunAsync(IDictionary<string, string> environment, CancellationToken shutdown)
    {
        try
        {
            process = Process.Start(StartInfo(environment))!;
        }
        catch (Win32Exception e)
        {
            // ENOENT reads as a container runtime would word it.
            await SendAsync(StatusChannel, Encoding.UTF8.GetBytes(StartFailure(e.NativeErrorCode == 2 ? "executable file not found in $PATH" : e.Message)));
            await CloseAsync();
            call.Exit.TrySetResult(-1);
            call.Began.TrySetResult();
            return;
        }

        call.Began.TrySetResult();
        stdin = process.StandardInput.BaseStream;
        if (!call.Stdin)
        {
            CloseStdin();
        }
        var receiving = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        var stdoutPump = PumpAsync(process.StandardOutput.BaseStream, StdoutChannel, call.Stdout);
        var stderrPump = PumpAsync(process.StandardError.BaseStream, call.Tty ? StdoutChannel : StderrChannel, call.Tty ? call.Stdout : call.Stderr);
        try
        {
            await process.WaitForExitAsync(shutdown);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await process.WaitForExitAsync(CancellationToken.None);
        }
        // A background child can keep the pipes open after the process exits; do not wait for it forever.
        await Task.WhenAny(Task.WhenAll(stdoutPump, stderrPump), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        finished = true;
        var exitCode = process.ExitCode;
        await SendAsync(StatusChannel, Encoding.UTF8.GetBytes(exitCode == 0 ? """{"metadata":{},"status":"Success"}""" : NonZeroExit(exitCode)));
        await CloseAsync();
        call.Exit.TrySetResult(exitCode);
        // Let the client answer the close; KubernetesClient never does, so only briefly.
        await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
        process.Dispose();
    }

    public void Kill()
    {
        try
        {
            process?.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            // Already exited.
        }
    }

    public void Abort()
    {
        broken = true;
        socket.Abort();
        http.Abort();
    }

    private ProcessStartInfo StartInfo(IDictionary<string, string> environment)
    {
        var program = call.Command[0];
        if (program.Contains('/') && !Path.IsPathRooted(program))
        {
            // Relative to the container's working directory, not the test host's.
            program = Path.Combine(call.WorkingDirectory, program);
        }
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = call.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in call.Command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        return info;
    }

    private async Task PumpAsync(Stream source, byte channel, bool forward)
    {
        var buffer = new byte[ChunkSize + 1];
        buffer[0] = channel;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(1, ChunkSize))) > 0)
            {
                if (forward)
                {
                    await SendAsync(buffer.AsMemory(0, read + 1));
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        byte channel = 0;
        var continuation = false;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStdin();
                    return;
                }
                var data = buffer.AsMemory(0, result.Count);
                if (!continuation && data.Length > 0)
                {
                    channel = data.Span[0];
                    data = data[1..];
                }
                continuation = !result.EndOfMessage;
                if (channel == StdinChannel && data.Length > 0)
                {
                    await WriteStdinAsync(data);
                }
                else if (channel == CloseChannel && v5 && data.Length > 0 && data.Span[0] == StdinChannel)
                {
                    CloseStdin();
                }
                // Channel 4 (terminal resize) needs no action without a real tty.
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            broken = true;
            CloseStdin();
            if (killOnDisconnect && !finished)
            {
                Kill();
            }
        }
    }

    private async Task WriteStdinAsync(ReadOnlyMemory<byte> data)
    {
        var target = stdin;
        if (target is null)
        {
            return;
        }
        try
        {
            await target.WriteAsync(data);
            await target.FlushAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process closed its stdin or exited.
        }
    }

    private void CloseStdin()
    {
        var target = Interlocked.Exchange(ref stdin, null);
        try
        {
            target?.Dispose();
        }
        catch (IOException)
        {
            // Broken pipe: the process already exited.
        }
    }

    private Task SendAsync(byte channel, byte[] payload)
    {
        var frame = new byte[payload.Length + 1];
        frame[0] = channel;
        payload.CopyTo(frame, 1);
        return SendAsync(frame);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        await sendLock.WaitAsync();
        try
        {
            if (!broken)
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            broken = true;
        }
        finally
        {
            sendLock.Release();
        }
    }

    private async Task CloseAsync()
    {
        await sendLock.WaitAsync();
        try
        {
            if (!broken && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            broken = true;
        }
        finally
        {
            sendLock.Release();
        }
    }

    private string NonZeroExit(int exitCode) => new JsonObject
    {
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(" ", call.Command)}], exit code {exitCode}",
        ["reason"] = "NonZeroExitCode",
        ["details"] = new JsonObject
        {
            ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.ToString(CultureInfo.InvariantCulture) }),
        },
    }.ToJsonString();

    private string StartFailure(string error) => new JsonObject
    {
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = $"Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: \"{call.Command[0]}\": {error}: unknown",
        ["reason"] = "InternalError",
        ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = error }) },
        ["code"] = 500,
    }.ToJsonString();
}
