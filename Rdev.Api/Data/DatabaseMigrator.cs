using System.Runtime.ExceptionServices;
using DbUp;
using Npgsql;
using Polly;

namespace Rdev.Api.Data;

/// <summary>
/// Applies the SQL scripts in Data/Migrations (DbUp, journal table <c>schemaversions</c>) before the API serves.
/// A Postgres advisory lock makes replicas that start together take turns: the second finds nothing left to do.
/// </summary>
public sealed partial class DatabaseMigrator(
    NpgsqlDataSource dataSource,
    IConfiguration configuration,
    ILogger<DatabaseMigrator> logger) : IHostedService
{
    // Any constant unique to rdev; pg_advisory_lock keys are bigints.
    private const long MigrationLockKey = 0x7264_6576_6d69_67;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);

    private readonly ResiliencePipeline retry = DatabaseRetry.Migrations((ex, delay) => LogUnreachable(logger, delay, ex));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartupTimeout);
        // The database may still be starting (a rollout, a restarted Postgres): wait, do not crash-loop.
        await retry.ExecuteAsync(async ct => await MigrateAsync(ct), timeout.Token);
    }

    private async Task MigrateAsync(CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", lockConnection))
        {
            await take.ExecuteNonQueryAsync(ct);
        }

        // DbUp opens its own connection; the lock is released when lockConnection closes. Unpooled, so that it is
        // closed after the migration instead of idling outside the bounded pool (Rdev:Database:MaxPoolSize).
        var upgrader = DeployChanges.To
            .PostgresqlDatabase(new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("rdevdb")) { Pooling = false }.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly)
            .WithTransactionPerScript()
            .LogTo(logger)
            .Build();

        var result = await Task.Run(upgrader.PerformUpgrade, ct);
        if (result.Error is NpgsqlException { IsTransient: true } transient)
        {
            // A pooled connection broken by a database restart, for example: worth another try.
            ExceptionDispatchInfo.Throw(transient);
        }

        if (!result.Successful)
        {
            throw new InvalidOperationException($"Database migration {result.ErrorScript?.Name} failed.", result.Error);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Warning, "Database not reachable for migrations; retrying in {Delay}")]
    private static partial void LogUnreachable(ILogger logger, TimeSpan delay, Exception? exception);
}
