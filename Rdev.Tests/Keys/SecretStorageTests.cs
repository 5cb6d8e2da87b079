using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rdev.Api.Keys;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Keys;

public sealed class SecretStorageTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task NeitherTheDatabaseNorTheLogsEverHoldASecret()
    {
        var logs = new CapturingLoggerProvider();
        var factory = KeysHost.Create(database).WithWebHostBuilder(builder => builder.ConfigureLogging(logging =>
            logging.AddProvider(logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace)));
        var admin = factory.AdminClient();
        var secrets = new List<string> { KeysHost.AdminKey.Split('_')[2] };
        for (var i = 0; i < 5; i++)
        {
            var created = await admin.CreateKeyAsync($"stored {i}", [Scopes.Admin, Scopes.ProjectsRead], ["alpha"], ["10.0.0.0/8"]);
            secrets.Add(created.Key.Split('_')[2]);
            await factory.ClientWithKey(created.Key).GetAsync("/api/v1/keys");
            await factory.ClientWithKey(created.Key + "0").GetAsync("/api/v1/keys");
            if (i % 2 == 0)
            {
                await admin.DeleteAsync($"/api/v1/keys/{created.Id}");
            }
        }

        // Shut down, so every background write (usage, audit aggregation) has happened.
        await factory.DisposeAsync();

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains("api_keys", tables);
        foreach (var table in tables)
        {
            foreach (var secret in secrets)
            {
                // A row's text form covers every column (bytea as hex, so also look for the secret's bytes).
                await using var search = new NpgsqlCommand(
                    $"SELECT count(*) FROM \"{table}\" AS t WHERE t::text LIKE '%' || $1 || '%' OR position(convert_to($1, 'UTF8') IN convert_to(t::text, 'UTF8')) > 0 " +
                    $"OR t::text LIKE '%' || encode(convert_to($1, 'UTF8'), 'hex') || '%'", connection);
                search.Parameters.Add(new NpgsqlParameter { Value = secret });
                Assert.Equal(0L, (long)(await search.ExecuteScalarAsync())!);
            }
        }

        // What is stored is the SHA-256 of the secret, 32 bytes.
        Assert.Equal(32, await database.ScalarAsync<int>($"SELECT length(secret_hash) FROM api_keys WHERE id = '{KeysHost.AdminKeyId}'"));

        Assert.NotEmpty(logs.Lines);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                provider.Lines.Enqueue($"scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                provider.Lines.Enqueue($"{formatter(state, exception)} | {values} | {exception}");
            }
        }
    }
}
