using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Rdev.Api.Data;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// One database per test run that the API's own <see cref="DatabaseMigrator"/> has migrated; every
/// <see cref="PostgresDatabase"/> is created as a copy of it (CREATE DATABASE ... TEMPLATE), which is much cheaper
/// than running the migrations again for each host. Dropped when the test process exits.
/// </summary>
internal static class MigratedTemplate
{
    private static readonly string Name = $"rdev_template_{Guid.NewGuid():N}";
    private static readonly Lazy<Task<string>> Created = new(CreateAsync);

    public static Task<string> NameAsync() => Created.Value;

    private static async Task<string> CreateAsync()
    {
        await using (var server = new NpgsqlConnection(PostgresDatabase.ServerConnectionString))
        {
            await server.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", server);
            await create.ExecuteNonQueryAsync();
        }

        // No pooling: a copy can only be taken while no session is connected to the template.
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresDatabase.ServerConnectionString) { Database = Name, Pooling = false }.ConnectionString;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:rdevdb"] = connectionString })
            .Build();
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await new DatabaseMigrator(dataSource, configuration, NullLogger<DatabaseMigrator>.Instance).StartAsync(CancellationToken.None);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => Drop();
        return Name;
    }

    private static void Drop()
    {
        using var server = new NpgsqlConnection(PostgresDatabase.ServerConnectionString);
        server.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", server);
        drop.ExecuteNonQuery();
    }
}
