using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rdev.Tests.Sessions;

/// <summary>
/// A stand-in for the Anthropic Messages API that the real Claude Code CLI talks to when <c>ANTHROPIC_BASE_URL</c>
/// points here: <c>POST /v1/messages</c> answers with streamed SSE (<c>message_start</c>, <c>content_block_*</c>,
/// <c>message_delta</c>, <c>message_stop</c>), <c>count_tokens</c> with a count. The reply follows the newest user
/// text, so each test scripts its model by its prompt:
/// <list type="bullet">
/// <item><c>WRITE &lt;absolute path&gt;</c>: a <c>Write</c> tool use of that file (the CLI asks for permission);</item>
/// <item><c>SLOW</c>: text streamed a word every 100 ms for a minute (a long turn to interrupt);</item>
/// <item>a tool result: "tool done: &lt;its text&gt;", which ends the turn;</item>
/// <item>anything else: "echo: &lt;the text&gt;".</item>
/// </list>
/// Every request body is kept, so a test can see what the model was shown.
/// </summary>
public sealed class FakeAnthropicApi : IAsyncDisposable
{
    public const string WrittenContent = "written by the real CLI\n";

    private readonly ConcurrentQueue<JsonObject> requests = new();
    private WebApplication? app;
    private int toolIds;

    public string Url { get; private set; } = "";

    /// <summary>The request bodies of <c>POST /v1/messages</c>, in arrival order.</summary>
    public IReadOnlyList<JsonObject> Requests => [.. requests];

    /// <summary>Slow replies streaming now.</summary>
    public int SlowStreams => slowStreams;

    private int slowStreams;

    public static async Task<FakeAnthropicApi> StartAsync()
    {
        var fake = new FakeAnthropicApi();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/v1/messages/count_tokens", () => Results.Json(new { input_tokens = 12 }));
        app.MapPost("/v1/messages", fake.MessagesAsync);
        await app.StartAsync();
        fake.app = app;
        fake.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return fake;
    }

    /// <summary>Every text the model was shown as the user's, in all requests (prompts and follow-ups).</summary>
    public static IEnumerable<string> UserTexts(JsonObject request) =>
        request["messages"]!.AsArray().Where(m => (string?)m!["role"] == "user").SelectMany(m => Texts(m!["content"]));

    private async Task MessagesAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        requests.Enqueue(body);
        var last = body["messages"]!.AsArray().Last(m => (string?)m!["role"] == "user")!;
        var toolResult = last["content"] is JsonArray blocks
            ? blocks.FirstOrDefault(b => (string?)b!["type"] == "tool_result") : null;
        var text = Texts(last["content"]).LastOrDefault() ?? "";

        context.Response.ContentType = "text/event-stream";
        await SendAsync(context, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = $"msg_{Guid.NewGuid():N}", ["type"] = "message", ["role"] = "assistant", ["model"] = (string?)body["model"],
                ["content"] = new JsonArray(), ["stop_reason"] = null, ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = 10, ["output_tokens"] = 1 },
            },
        });
        string stop;
        if (toolResult is null && text.Split(' ') is var words && Array.IndexOf(words, "WRITE") is >= 0 and var at && at + 1 < words.Length)
        {
            var input = new JsonObject { ["file_path"] = words[at + 1], ["content"] = WrittenContent };
            await BlockAsync(context,
                new JsonObject { ["type"] = "tool_use", ["id"] = $"toolu_{Interlocked.Increment(ref toolIds)}", ["name"] = "Write", ["input"] = new JsonObject() },
                new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = input.ToJsonString() });
            stop = "tool_use";
        }
        else if (toolResult is null && text.Contains("SLOW", StringComparison.Ordinal))
        {
            await SlowTextAsync(context);
            return;
        }
        else
        {
            var reply = toolResult is null ? $"echo: {text}" : $"tool done: {string.Join(" ", Texts(toolResult["content"]))}";
            await BlockAsync(context, new JsonObject { ["type"] = "text", ["text"] = "" },
                new JsonObject { ["type"] = "text_delta", ["text"] = reply });
            stop = "end_turn";
        }

        await SendAsync(context, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stop, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = 5 },
        });
        await SendAsync(context, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private async Task SlowTextAsync(HttpContext context)
    {
        Interlocked.Increment(ref slowStreams);
        try
        {
            await SendAsync(context, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            });
            for (var i = 0; i < 600 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await SendAsync(context, "content_block_delta", new JsonObject
                {
                    ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = "word " },
                });
                await Task.Delay(100, context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The CLI hung up: the turn was interrupted.
        }
        finally
        {
            Interlocked.Decrement(ref slowStreams);
        }
    }

    private static async Task BlockAsync(HttpContext context, JsonObject start, JsonObject delta)
    {
        await SendAsync(context, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = start });
        await SendAsync(context, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = delta });
        await SendAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
    }

    private static async Task SendAsync(HttpContext context, string name, JsonObject data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", Encoding.UTF8, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static IEnumerable<string> Texts(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => [s],
        JsonArray blocks => blocks.SelectMany(b => (string?)b!["type"] switch
        {
            "text" => [(string?)b["text"] ?? ""],
            "tool_result" => Texts(b["content"]),
            _ => [],
        }),
        _ => [],
    };

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }
}
