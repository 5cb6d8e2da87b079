using System.Collections.Concurrent;
using Npgsql;

namespace Rdev.Api.Data;

/// <summary>A Postgres NOTIFY channel this API replica listens on; register one per feature with AddSingleton.</summary>
public sealed record NotificationChannel(string Name);

/// <summary>
/// One dedicated connection per API replica that LISTENs on every registered <see cref="NotificationChannel"/> and
/// hands each NOTIFY payload to the channel's subscribers. This is how replicas learn about each other's writes
/// (revoked keys, discovered projects, new command output) without polling.
/// </summary>
/// <remarks>
/// Notifications sent while the connection is down are lost, so after every (re)connect each subscriber is called
/// with a <c>null</c> payload, meaning "reload what you cache".
/// </remarks>
public sealed class PostgresNotifications(
    NpgsqlDataSource dataSource,
    IEnumerable<NotificationChannel> channels,
    ILogger<PostgresNotifications> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> handlers = new();
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Connected => connected.Task;

    public IDisposable Subscribe(string channel, Action<string?> handler)
    {
        handlers.AddOrUpdate(channel, _ => new([handler]), (_, current) => new([.. current.Items, handler]));
        return new Subscription(() => handlers.AddOrUpdate(
            channel, _ => new([]), (_, current) => new([.. current.Items.Where(h => h != handler)])));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                foreach (var channel in channels.Select(c => c.Name).Distinct())
                {
                    await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection);
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                attempt = 0;
                foreach (var channel in handlers.Keys)
                {
                    Dispatch(channel, null);
                }

                connected.TrySetResult();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, attempt++)) + Random.Shared.Next(100));
                logger.LogWarning("Lost the notification connection ({Message}); reconnecting in {Delay}", ex.Message, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Dispatch(string channel, string? payload)
    {
        if (!handlers.TryGetValue(channel, out var subscribers))
        {
            return;
        }

        foreach (var handler in subscribers.Items)
        {
            try
            {
                handler(payload);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "A subscriber of {Channel} failed", channel);
            }
        }
    }

    private sealed record ImmutableHandlers(Action<string?>[] Items);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
