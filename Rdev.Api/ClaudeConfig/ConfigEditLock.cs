using Npgsql;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// Serializes changes to one item across every API replica: a transaction holding a Postgres advisory lock keyed by
/// (project, type, item). Create, replace and delete read the item, compare (existence, ETag) and write while holding
/// it, so two editors with the same ETag cannot both win. The audit entry is written on <see cref="Connection"/>
/// and commits with <see cref="CommitAsync"/>; disposing without committing rolls it back and releases the lock.
/// </summary>
/// <remarks>
/// The lock guards changes made through rdev. Someone editing the file in the pod directly is not serialized with
/// it, but the ETag still catches their change unless it lands within the few milliseconds between compare and write.
/// </remarks>
public sealed class ConfigEditLock : IAsyncDisposable
{
    /// <summary>How long a change waits for another change of the same item before answering 409 (<see cref="ItemBusyException"/>).</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);

    /// <summary>SQLSTATE of a lock wait that hit <c>lock_timeout</c>.</summary>
    public const string LockNotAvailable = "55P03";

    private readonly NpgsqlTransaction transaction;

    private ConfigEditLock(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        this.transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public static async Task<ConfigEditLock> AcquireAsync(
        NpgsqlDataSource dataSource, string project, ConfigType type, string item, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var timeout = new NpgsqlCommand(
                $"SET LOCAL lock_timeout = '{(int)WaitLimit.TotalMilliseconds}ms'", connection))
            {
                await timeout.ExecuteNonQueryAsync(cancellationToken);
            }

            // Names cannot hold '/', so the key text is unambiguous; Postgres hashes it to the lock's 64-bit key.
            await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection))
            {
                acquire.Parameters.Add(new NpgsqlParameter { Value = $"claude-config/{project}/{type.Name}/{item}" });
                await acquire.ExecuteNonQueryAsync(cancellationToken);
            }

            return new ConfigEditLock(connection, transaction);
        }
        catch (PostgresException e) when (e.SqlState == LockNotAvailable)
        {
            await connection.DisposeAsync();
            throw new ItemBusyException("Another change to this item is in progress and did not finish in time; retry.", e);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>Another change to the same item held its lock for longer than <see cref="ConfigEditLock.WaitLimit"/>.</summary>
public sealed class ItemBusyException(string message, Exception inner) : Exception(message, inner);
