using Npgsql;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// A fresh database on the PostgreSQL server that scripts/test.sh started (connection string in
/// <c>RDEV_TEST_POSTGRES</c>), for one test class; dropped afterwards. It is a copy of <see cref="MigratedTemplate"/>,
/// so it already holds the schema and DbUp's journal and a host starting on it finds no migration left to run;
/// <see cref="EmptyPostgresDatabase"/> is the one for tests of the migrations themselves.
/// </summary>
public class PostgresDatabase : IAsyncLifetime
{
    public const string ServerVariable = "RDEV_TEST_POSTGRES";

    private readonly bool migrated;

    public PostgresDatabase()
        : this(migrated: true)
    {
    }

    protected PostgresDatabase(bool migrated) => this.migrated = migrated;

    public string Name { get; } = $"rdev_test_{Guid.NewGuid():N}";

    public string ConnectionString => new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = Name }.ConnectionString;

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(ServerVariable)
        ?? throw new InvalidOperationException(
            $"{ServerVariable} is not set. Run the tests with scripts/test.sh, which starts a PostgreSQL server for them.");

    public async Task InitializeAsync()
    {
        var template = migrated ? $" TEMPLATE \"{await MigratedTemplate.NameAsync()}\"" : "";
        // FILE_COPY copies the few megabytes of a test database as files; the default (WAL_LOG) writes every page
        // through the WAL, which cost about three times the CPU per database.
        await ExecuteOnServerAsync($"CREATE DATABASE \"{Name}\"{template} STRATEGY FILE_COPY");
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    /// <summary>Runs SQL as the server's superuser against this database.</summary>
    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>Runs SQL on the maintenance database (for statements about this database itself).</summary>
    public async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>A fresh database with nothing in it: the API's migrations start from zero.</summary>
public sealed class EmptyPostgresDatabase() : PostgresDatabase(migrated: false);
