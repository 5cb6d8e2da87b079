using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Rdev.Api.Commands;
using Rdev.Api.Execution;

namespace Rdev.Api.Sessions;

/// <summary>
/// Drives one Claude CLI process on this replica over its stdio control protocol (SPEC section 7a): sends the prompt
/// and follow-ups as <c>user</c> lines, one turn at a time, turns <c>can_use_tool</c> control requests into stored
/// approvals and answers them once decided or expired, interrupts a turn, and ends the session (closes stdin) after
/// a one-shot turn, on close, or when a kept-open session has been idle too long.
/// </summary>
/// <remarks>
/// All state changes happen on one loop: lines the CLI wrote, requests that arrived by NOTIFY, and timers. Events go
/// into the command's ordered event writer, so they are numbered and stored like its output.
/// </remarks>
internal sealed partial class ClaudeSession : IAsyncDisposable
{
    private readonly Channel<object> inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<Guid, ApprovalRecord> pending = [];
    private readonly CancellationTokenSource stop = new();
    private readonly CommandRecord command;
    private readonly IRunningProcess process;
    private readonly SessionEmit emit;
    private readonly SessionStore store;
    private readonly ClaudeOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly bool keepOpen;
    private readonly TimeSpan idleTimeout;
    private readonly bool resumed;
    private Task loop = Task.CompletedTask;
    private string status = CommandStatuses.Running;
    private bool turnRunning;
    private bool inputClosed;
    private bool closeRequested;
    private int interruptsSeen;
    private DateTimeOffset? idleDeadline;
    private int disposed;
    private object? retry;
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    public ClaudeSession(
        CommandRecord command, IRunningProcess process, SessionEmit emit, SessionStore store, ClaudeOptions options,
        TimeProvider time, ILogger logger, bool resumed)
    {
        this.command = command;
        this.process = process;
        this.emit = emit;
        this.resumed = resumed;
        this.store = store;
        this.options = options;
        this.time = time;
        this.logger = logger;
        keepOpen = command.Args["keep_open"]?.GetValue<bool>() == true;
        idleTimeout = TimeSpan.FromSeconds(command.Args["idle_timeout_seconds"]?.GetValue<int>() ?? options.DefaultIdleTimeoutSeconds);
    }

    public Guid CommandId => command.Id;

    public void Start() => loop = Task.Run(RunAsync);

    /// <summary>
    /// Called by the output pump for every stream-json line, with what the pump parsed of the session so far; only
    /// what the session acts on is queued.
    /// </summary>
    public void Observe(JsonElement line, ClaudeOutcome? outcome)
    {
        if (line.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            && type.GetString() is "control_request" or "result" or "system")
        {
            inbox.Writer.TryWrite(type.GetString() == "control_request" ? line.Clone() : new TurnLine(type.GetString()!, outcome));
        }
    }

    /// <summary>A <c>system</c> or <c>result</c> line, and the session's outcome as the pump parsed it with that line.</summary>
    private sealed record TurnLine(string Type, ClaudeOutcome? Outcome);

    /// <summary>A request from the API (any replica), or null to re-read everything (a notification may be lost).</summary>
    public void Notify(string? action) => inbox.Writer.TryWrite(action ?? "");

    private async Task RunAsync()
    {
        var ct = stop.Token;
        try
        {
            if (resumed)
            {
                await ResumeAsync(ct);
            }
            else
            {
                await SendUserAsync(command.Args["prompt"]?.GetValue<string>() ?? "", ct);
            }

            var failed = false;
            while (!ct.IsCancellationRequested)
            {
                if (failed)
                {
                    // A step failed (the database, most likely): retry it after a pause rather than in a tight loop.
                    await Task.Delay(RetryPause, time, ct);
                }
                else
                {
                    await WaitAsync(ct);
                }

                try
                {
                    await StepAsync(ct);
                    failed = false;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    SessionLog.StepFailed(logger, command.Id, ex);
                    failed = true;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The CLI goes on without the session's help; closing its input ends it rather than leave it waiting.
            SessionLog.Failed(logger, command.Id, ex);
            await CloseInputAsync(CancellationToken.None);
        }
    }

    // Until the next work item, timer or resync.
    private async Task WaitAsync(CancellationToken ct)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var wake = Task.Delay(NextWake(), time, waiting.Token);
        var ready = inbox.Reader.WaitToReadAsync(waiting.Token).AsTask();
        await Task.WhenAny(ready, wake);
        await waiting.CancelAsync();
        await Task.WhenAll(ready, wake).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ct.ThrowIfCancellationRequested();
    }

    // The work item that failed is handled again first, so a CLI line is never dropped by a database blip.
    private async Task StepAsync(CancellationToken ct)
    {
        var worked = false;
        while ((retry ?? (inbox.Reader.TryRead(out var next) ? next : null)) is { } work)
        {
            worked = true;
            retry = work;
            await HandleAsync(work, ct);
            retry = null;
        }

        if (!worked)
        {
            await ResyncAsync(ct);
        }

        await CheckTimersAsync(ct);
    }

    private TimeSpan NextWake()
    {
        var now = time.GetUtcNow();
        var resync = TimeSpan.FromSeconds(options.ResyncSeconds);
        var next = now + resync;
        foreach (var approval in pending.Values)
        {
            next = approval.ExpiresAt < next ? approval.ExpiresAt : next;
        }

        if (idleDeadline is { } idle && idle < next)
        {
            next = idle;
        }

        var wait = next - now;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    private async Task HandleAsync(object work, CancellationToken ct)
    {
        switch (work)
        {
            case TurnLine { Outcome: { } outcome } line:
                await store.RecordClaudeAsync(command.Id, outcome, ct);
                if (line.Type == "result")
                {
                    await TurnEndedAsync(ct);
                }

                break;
            case TurnLine { Type: "result" }:
                await TurnEndedAsync(ct);
                break;
            case JsonElement line when line.TryGetProperty("request", out var request)
                && request.TryGetProperty("subtype", out var subtype) && subtype.ValueKind == JsonValueKind.String
                && subtype.GetString() == "can_use_tool":
                await PermissionRequestedAsync(line, request, ct);
                break;
            case SessionActions.Approval:
                await LoadDecisionsAsync(ct);
                break;
            case SessionActions.Message:
                await SendNextMessageAsync(ct);
                break;
            case string:
                await ResyncAsync(ct);
                break;
        }
    }

    private async Task ResyncAsync(CancellationToken ct)
    {
        await LoadDecisionsAsync(ct);
        var (interrupts, close) = await store.RequestsAsync(command.Id, ct);
        if (interrupts > interruptsSeen)
        {
            interruptsSeen = interrupts;
            await InterruptAsync(ct);
        }

        if (close && !closeRequested)
        {
            closeRequested = true;
            if (!turnRunning)
            {
                await CloseInputAsync(ct);
            }
        }

        await SendNextMessageAsync(ct);
    }

    private async Task CheckTimersAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var approval in pending.Values.Where(a => a.ExpiresAt <= now).ToList())
        {
            var message = $"No decision within {options.ApprovalTimeoutSeconds} s; denied by rdev.";
            if (await store.ExpireAsync(approval.Id, message, ct) is { } expired)
            {
                await AnswerAsync(expired, ct);
            }
            else
            {
                await LoadDecisionsAsync(ct);
                // Still here: its row is not pending (nor known), so there is nothing left to wait for.
                pending.Remove(approval.Id);
            }
        }

        if (idleDeadline is { } idle && idle <= now && !turnRunning)
        {
            SessionLog.Idle(logger, command.Id);
            await CloseInputAsync(ct);
        }
    }

    private async Task SetStatusAsync(string next)
    {
        if (next != status)
        {
            status = next;
            await EmitAsync(EventTypes.Status, EventData.Status(next, null));
        }
    }

    private async Task EmitAsync(string type, string data)
    {
        try
        {
            await emit(type, data, stop.Token);
        }
        catch (ChannelClosedException)
        {
            // The command's output has ended; so has the session.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await stop.CancelAsync();
        await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }
}
