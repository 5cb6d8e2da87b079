using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Observability;

/// <summary>No secret (API key secrets, the database password) ever reaches logs, spans or metrics.</summary>
[Collection(SerialCollection.Name)]
[Trait("Category", "Slow")]
public sealed class SecretsInTelemetryTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task KeysAndDatabasePasswordNeverAppearInCapturedTelemetry()
    {
        var captured = new ConcurrentQueue<string>();
        using var spans = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                captured.Enqueue(activity.DisplayName);
                captured.Enqueue(activity.StatusDescription ?? "");
                foreach (var tag in activity.TagObjects)
                {
                    captured.Enqueue($"{tag.Key}={tag.Value}");
                }

                foreach (var e in activity.Events)
                {
                    captured.Enqueue(e.Name);
                    foreach (var tag in e.Tags)
                    {
                        captured.Enqueue($"{tag.Key}={tag.Value}");
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(spans);

        // Everything is logged, as an operator debugging an incident might configure it.
        var verbose = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace" };
        var (factory, admin) = host.StartReplica(verbose, services =>
            services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(captured)));
        await host.AddProjectAsync("secrets");
        await CommandsHost.WaitForProjectAsync(admin, "secrets");

        var created = await admin.PostAsJsonAsync("/api/v1/keys", new { name = "ci key", scopes = new[] { "commands:run", "commands:read", "projects:read" } });
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var user = factory.CreateClient();
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var command = await CommandsHost.StartAsync(user, "secrets", "git", new { args = new[] { "status" } });
        await CommandsHost.ReadStreamAsync(user, command.GetProperty("id").GetString()!);

        // Failures are logged and counted too: a wrong secret for a real id, and a key in the query string.
        var wrong = factory.CreateClient();
        var keyId = key.Split('_')[1];
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"rdev_{keyId}_WrongSecretWrongSecretWrongSecret0");
        await wrong.GetAsync("/api/v1/projects");
        await factory.CreateClient().GetAsync($"/api/v1/projects?api_key={key}");
        captured.Enqueue(await factory.CreateClient().GetStringAsync("/metrics"));

        var secrets = new[]
        {
            CommandsHost.AdminKey.Split('_')[2],
            key.Split('_')[2],
            new NpgsqlConnectionStringBuilder(host.ConnectionString).Password!,
        };
        var everything = string.Join('\n', captured);
        // Sanity: the capture saw the requests, the command and its spans.
        Assert.Contains("/api/v1/projects/{name}/git", everything);
        Assert.Contains("command.id=" + command.GetProperty("id").GetString(), everything);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> into) : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentQueue<string> into = into;
        private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider.scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                provider.into.Enqueue($"{category}: {formatter(state, exception)} {exception}");
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (k, v) in values)
                    {
                        provider.into.Enqueue($"{k}={v}");
                    }
                }

                provider.scopes.ForEachScope((scope, list) => list.Enqueue(scope?.ToString() ?? ""), provider.into);
            }
        }
    }
}
