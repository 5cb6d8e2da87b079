using System.Collections.Concurrent;
using System.Threading.Channels;
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

    /// <summary>How a Claude command's process is started: with stdin for the session, and the configured environment.</summary>
    public StartOptions StartOptions => new(Input: true, Environment: options.Value.Environment);

    /// <summary>Starts driving <paramref name="process"/>; the caller feeds it the CLI's lines and disposes it at exit.</summary>
    internal ClaudeSession Open(CommandRecord command, IRunningProcess process, ChannelWriter<(string Type, string Data)> events)
    {
        var session = new ClaudeSession(command, process, events, store, options.Value, time, logger);
        sessions[command.Id] = session;
        session.Start();
        return session;
    }

    internal async Task CloseAsync(ClaudeSession session)
    {
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
