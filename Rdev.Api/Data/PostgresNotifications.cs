using System.Collections.Concurrent;
using Npgsql;
using Polly;

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
public sealed partial class PostgresNotifications(
    NpgsqlDataSource dataSource,
    IEnumerable<NotificationChannel> channels,
    ILogger<PostgresNotifications> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> handlers = new();
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResiliencePipeline reconnect = DatabaseRetry.Reconnect((ex, delay) => LogReconnecting(logger, delay, ex));

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
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Connecting is retried with backoff; a connection that worked and then dropped is replaced at once.
                await using var connection = await reconnect.ExecuteAsync(ListenAsync, stoppingToken);
                try
                {
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        await connection.WaitAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
                {
                    LogConnectionLost(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Opens the connection, LISTENs on every channel, and tells subscribers to reload what they cache.</summary>
    private async ValueTask<NpgsqlConnection> ListenAsync(CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
            foreach (var channel in channels.Select(c => c.Name).Distinct())
            {
                await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection);
                await listen.ExecuteNonQueryAsync(ct);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        foreach (var channel in handlers.Keys)
        {
            Dispatch(channel, null);
        }

        connected.TrySetResult();
        return connection;
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
                LogSubscriberFailed(logger, channel, ex);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Lost the notification connection; reconnecting")]
    private static partial void LogConnectionLost(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Cannot open the notification connection; retrying in {Delay}")]
    private static partial void LogReconnecting(ILogger logger, TimeSpan delay, Exception? exception);

    [LoggerMessage(LogLevel.Error, "A subscriber of {Channel} failed")]
    private static partial void LogSubscriberFailed(ILogger logger, string channel, Exception exception);

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
