using System.Security.Cryptography;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Rdev.AppHost.Postgres;

public static partial class ExecutablePostgresExtensions
{
    /// <summary>
    /// Runs the PostgreSQL server found in <paramref name="binDirectory"/> as an executable resource with its data in
    /// <paramref name="stateDirectory"/>: <c>initdb</c> on first use, as the <c>postgres</c> user when the AppHost
    /// runs as root (the server refuses to run as root), listening on loopback only.
    /// </summary>
    public static IResourceBuilder<PostgresExecutableDatabaseResource> AddExecutablePostgres(
        this IDistributedApplicationBuilder builder, string name, string databaseName, string binDirectory, string stateDirectory)
    {
        var dataDirectory = Path.Combine(stateDirectory, "data");
        var password = ReadOrCreatePassword(Path.Combine(stateDirectory, "password"));
        var runAsPostgres = Environment.UserName == "root";

        var postgres = Path.Combine(binDirectory, "postgres");
        string[] serverArgs =
        [
            "-D", dataDirectory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", "logging_collector=off",
        ];
        var (command, args) = runAsPostgres ? ("setpriv", [.. AsPostgresUser, postgres, .. serverArgs]) : (postgres, serverArgs);

        var server = new PostgresServerExecutableResource(name, command, stateDirectory, password);
        var serverHealthKey = $"{name}_check";
        var databaseHealthKey = $"{databaseName}_check";

        builder.Services.AddHealthChecks()
            .AddAsyncCheck(serverHealthKey, ct => CanQueryAsync(server.ConnectionStringExpression, ct))
            .AddAsyncCheck(databaseHealthKey, ct => CanQueryAsync(
                ReferenceExpression.Create($"{server};Database={databaseName}"), ct));

        var database = new PostgresExecutableDatabaseResource(databaseName, databaseName, server);

        builder.AddResource(server)
            .WithArgs(args)
            .WithEndpoint(name: PostgresServerExecutableResource.EndpointName, scheme: "tcp", env: "PGPORT")
            .WithHealthCheck(serverHealthKey)
            .WithIconName("Database")
            .ExcludeFromManifest()
            .OnBeforeResourceStarted(async (_, e, ct) =>
                await InitializeDataDirectoryAsync(e.Services, binDirectory, stateDirectory, dataDirectory, runAsPostgres, ct))
            .OnResourceReady(async (resource, e, ct) =>
            {
                await CreateDatabaseIfMissingAsync(resource, databaseName, ct);
                // Aspire does not carry an executable's state over to a child resource: say it ourselves, so that
                // WaitFor(database) moves on to the database's own health check.
                await e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, state => state with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                });
            });

        return builder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [],
            })
            .WithHealthCheck(databaseHealthKey)
            .WithIconName("Database")
            .ExcludeFromManifest();
    }

    private static readonly string[] AsPostgresUser = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"];

    private static string ReadOrCreatePassword(string path)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        File.WriteAllText(path, password);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return password;
    }

    private static async Task InitializeDataDirectoryAsync(
        IServiceProvider services, string binDirectory, string stateDirectory, string dataDirectory, bool runAsPostgres, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            return;
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Rdev.AppHost.Postgres");
        LogCreatingDataDirectory(logger, dataDirectory);

        Directory.CreateDirectory(dataDirectory);
        var passwordFile = Path.Combine(stateDirectory, "initdb-password");
        File.Copy(Path.Combine(stateDirectory, "password"), passwordFile, overwrite: true);
        try
        {
            string[] initdbArgs =
            [
                "-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--no-locale",
                "--auth=scram-sha-256", $"--pwfile={passwordFile}",
            ];
            var initdb = Path.Combine(binDirectory, "initdb");
            if (runAsPostgres)
            {
                await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", dataDirectory, passwordFile], ct);
                await ProcessRunner.RunAsync("setpriv", [.. AsPostgresUser, initdb, .. initdbArgs], ct);
            }
            else
            {
                await ProcessRunner.RunAsync(initdb, initdbArgs, ct);
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task<HealthCheckResult> CanQueryAsync(ReferenceExpression connectionString, CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(await connectionString.GetValueAsync(ct));
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not accept connections yet.", ex);
        }
    }

    private static async Task CreateDatabaseIfMissingAsync(PostgresServerExecutableResource server, string databaseName, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(await server.ConnectionStringExpression.GetValueAsync(ct));
        await connection.OpenAsync(ct);

        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", databaseName);
        if (await exists.ExecuteScalarAsync(ct) is not null)
        {
            return;
        }

        var quoted = new NpgsqlCommandBuilder().QuoteIdentifier(databaseName);
        await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
        await create.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(LogLevel.Information, "Creating a new PostgreSQL data directory in {DataDirectory}")]
    private static partial void LogCreatingDataDirectory(ILogger logger, string dataDirectory);
}
