using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Rdev.Api.Commands;
using Rdev.Api.Data;
using Rdev.Api.Execution;

namespace Rdev.Api.Sessions;

/// <summary>
/// The Claude sessions this replica runs, and how requests reach them: whichever replica takes an approval, message,
/// interrupt or close stores it and NOTIFYs <see cref="SessionStore.Channel"/>; the replica running the session hands
/// it to the session, which reads what it needs from Postgres.
/// </summary>
public sealed class ClaudeSessions : IDisposable
{
    private readonly ConcurrentDictionary<Guid, ClaudeSession> sessions = new();
    private readonly SessionStore store;
    private readonly IOptions<ClaudeOptions> options;
    private readonly TimeProvider time;
    private readonly ILogger<ClaudeSessions> logger;
    private readonly IDisposable subscription;

    public ClaudeSessions(
        SessionStore store, IOptions<ClaudeOptions> options, TimeProvider time, PostgresNotifications notifications,
        ILogger<ClaudeSessions> logger)
    {
        this.store = store;
        this.options = options;
        this.time = time;
        this.logger = logger;
        subscription = notifications.Subscribe(SessionStore.Channel, OnNotification);
    }

    /// <summary>The extra environment of the Claude CLI (<see cref="ClaudeOptions.Environment"/>); secrets, never logged.</summary>
    public IReadOnlyDictionary<string, string> Environment => options.Value.Environment;

    /// <summary>
    /// Starts driving <paramref name="process"/>; the caller feeds it the CLI's lines and closes it at exit or when it
    /// lets go of the command. <paramref name="resumed"/>: this replica took the command over, the prompt was sent.
    /// </summary>
    internal ClaudeSession Open(CommandRecord command, IRunningProcess process, SessionEmit emit, bool resumed)
    {
        var session = new ClaudeSession(command, process, emit, store, options.Value, time, logger, resumed);
        sessions[command.Id] = session;
        session.Start();
        return session;
    }

    /// <summary>Stops driving the session (it may continue on another replica); the CLI's input stays as it is.</summary>
    internal async Task CloseAsync(ClaudeSession? session)
    {
        if (session is null)
        {
            return;
        }

        sessions.TryRemove(new KeyValuePair<Guid, ClaudeSession>(session.CommandId, session));
        await session.DisposeAsync();
    }

    private void OnNotification(string? payload)
    {
        if (payload is null)
        {
            foreach (var session in sessions.Values)
            {
                session.Notify(null);
            }

            return;
        }

        var parts = payload.Split(':', 2);
        if (parts.Length == 2 && Guid.TryParse(parts[0], out var id) && sessions.TryGetValue(id, out var target))
        {
            target.Notify(parts[1]);
        }
    }

    public void Dispose() => subscription.Dispose();
}
