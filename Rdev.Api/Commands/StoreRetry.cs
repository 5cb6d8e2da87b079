using Npgsql;
using Polly;
using Polly.Retry;

namespace Rdev.Api.Commands;

/// <summary>
/// The retry around the supervisor's writes: through a database outage, for as long as the replica runs (the caller's
/// token ends it), with capped exponential backoff. A command's record must not stay <c>running</c> because its
/// writes gave up while the replica that knows its outcome was still alive.
/// </summary>
internal static class StoreRetry
{
    public static ResiliencePipeline Create(ILogger logger) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsOutage),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(10),
            OnRetry = args =>
            {
                SupervisorLog.WriteRetried(logger, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    // Connection failures, timeouts and a server that refuses or drops connections. Not a statement the server
    // rejected on its merits (bad data, a constraint, SQL): repeating it would fail the same way for ever.
    private static bool IsOutage(Exception exception) => exception switch
    {
        TimeoutException => true,
        PostgresException pg => pg.SqlState[..2] is not ("22" or "23" or "42"),
        NpgsqlException => true,
        _ => false,
    };
}
