using Npgsql;
using Polly;
using Polly.Retry;

namespace Rdev.Api.Data;

/// <summary>
/// The retries around reaching the database at all: the migrations at start-up and the LISTEN connection. Each
/// owner builds its pipeline once, in its constructor (it is a singleton), as <c>StoreRetry</c> does for the
/// supervisor's writes. Both retry until their caller's token ends them.
/// </summary>
internal static class DatabaseRetry
{
    /// <summary>
    /// A database that is still starting (a rollout, a restarted Postgres): 250 ms doubling to at most 5 s, until
    /// the start-up timeout the caller's token carries. Anything but a transient failure crashes the start.
    /// </summary>
    public static ResiliencePipeline Migrations(Action<Exception?, TimeSpan> onRetry) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(ex => ex.IsTransient),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(250),
            MaxDelay = TimeSpan.FromSeconds(5),
            OnRetry = args => Report(onRetry, args.Outcome.Exception, args.RetryDelay),
        })
        .Build();

    /// <summary>
    /// A lost or refused LISTEN connection: 100 ms doubling to at most 5 s, with jitter so that the replicas of a
    /// restarted database do not all come back at the same instant.
    /// </summary>
    public static ResiliencePipeline Reconnect(Action<Exception?, TimeSpan> onRetry) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<NpgsqlException>().Handle<InvalidOperationException>().Handle<IOException>().Handle<TimeoutException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(5),
            OnRetry = args => Report(onRetry, args.Outcome.Exception, args.RetryDelay),
        })
        .Build();

    private static ValueTask Report(Action<Exception?, TimeSpan> onRetry, Exception? exception, TimeSpan delay)
    {
        onRetry(exception, delay);
        return ValueTask.CompletedTask;
    }
}
