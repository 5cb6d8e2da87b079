using System.Collections.Concurrent;
using Rdev.Api.Commands;
using Rdev.Api.Data;

namespace Rdev.Api.Streaming;

/// <summary>
/// Wakes the streams of a command when any replica stores new events for it (Postgres NOTIFY on
/// <see cref="CommandStore.EventsChannel"/>). A stream registers before it reads, so no wake-up is missed.
/// </summary>
public sealed class CommandEventSignals : IDisposable
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Waiter, byte>> waiters = new();
    private readonly IDisposable subscription;

    public CommandEventSignals(PostgresNotifications notifications) =>
        subscription = notifications.Subscribe(CommandStore.EventsChannel, OnNotification);

    public Waiter Register(Guid commandId)
    {
        var waiter = new Waiter(this, commandId);
        waiters.GetOrAdd(commandId, _ => new()).TryAdd(waiter, 0);
        return waiter;
    }

    private void OnNotification(string? payload)
    {
        if (payload is null)
        {
            // Reconnected: anything may have been missed.
            foreach (var set in waiters.Values)
            {
                foreach (var waiter in set.Keys)
                {
                    waiter.Signal();
                }
            }
        }
        else if (Guid.TryParse(payload, out var id) && waiters.TryGetValue(id, out var set))
        {
            foreach (var waiter in set.Keys)
            {
                waiter.Signal();
            }
        }
    }

    private void Unregister(Waiter waiter)
    {
        if (waiters.TryGetValue(waiter.CommandId, out var set))
        {
            set.TryRemove(waiter, out _);
            if (set.IsEmpty)
            {
                waiters.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Waiter, byte>>(waiter.CommandId, set));
            }
        }
    }

    public void Dispose() => subscription.Dispose();

    /// <summary>An auto-reset signal: a wake-up that arrives while nobody waits is kept for the next wait.</summary>
    public sealed class Waiter(CommandEventSignals owner, Guid commandId) : IDisposable
    {
        private readonly SemaphoreSlim signal = new(0, 1);

        public Guid CommandId { get; } = commandId;

        public void Signal()
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }

        /// <summary>True when signalled, false after <paramref name="timeout"/>.</summary>
        public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => signal.WaitAsync(timeout, ct);

        public void Dispose()
        {
            owner.Unregister(this);
            signal.Dispose();
        }
    }
}
