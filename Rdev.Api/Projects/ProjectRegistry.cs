using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Polly;
using Polly.Retry;
using Rdev.Api.Data;

namespace Rdev.Api.Projects;

/// <summary>
/// This replica's in-memory copy of the <c>projects</c> table. It loads every row at start-up; discovery's NOTIFY on
/// <see cref="Channel"/> names the rows that changed and only those are read again. A notification without names,
/// or the notification connection coming back (changes may have been missed), reloads everything. Reloads are
/// coalesced, and a failed one keeps the last known state while it retries, so the API keeps answering through a
/// discovery restart or a database hiccup.
/// </summary>
public sealed partial class ProjectRegistry(NpgsqlDataSource dataSource, PostgresNotifications notifications, ILogger<ProjectRegistry> logger)
    : BackgroundService, IHealthCheck
{
    public const string Channel = NotifyChannels.Projects;
    private static readonly TimeSpan StartupLoadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim reloadRequested = new(0, 1);
    private readonly Lock pendingGate = new();
    private HashSet<string>? pendingNames = [];
    private volatile Snapshot current = Snapshot.Empty;
    private IDisposable? subscription;

    /// <summary>Every known project, gone ones included, ordered by name (ordinal).</summary>
    public IReadOnlyList<Project> All => current.Sorted;

    /// <summary>Whether at least one load has succeeded.</summary>
    public bool IsLoaded => current.LoadedAt is not null;

    /// <summary>Finds a project by name, gone ones included: check <see cref="Project.Runnable"/> before running anything.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out Project? project) => current.ByName.TryGetValue(name, out project);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Subscribe before the first load, so a change committed in between is not missed.
        subscription = notifications.Subscribe(Channel, RequestReload);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartupLoadTimeout);
        try
        {
            await LoadAllAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogStartupLoadFailed(logger, ex);
            RequestReload(null);
        }

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        subscription?.Dispose();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = ReloadRetry();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reloadRequested.WaitAsync(stoppingToken);
                HashSet<string>? names;
                lock (pendingGate)
                {
                    (names, pendingNames) = (pendingNames, []);
                }

                var attempt = 0;
                // After a failure what was being refreshed is unknown: a retry reloads everything.
                await retry.ExecuteAsync(
                    async ct => await (names is null || attempt++ > 0 ? LoadAllAsync(ct) : RefreshAsync(names, ct)),
                    stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private ResiliencePipeline ReloadRetry() => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<TimeoutException>().Handle<InvalidOperationException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = MaxRetryDelay,
            OnRetry = args =>
            {
                LogReloadFailed(logger, args.Outcome.Exception!, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(current.LoadedAt is { } at
            ? HealthCheckResult.Healthy($"{current.Sorted.Length} projects, loaded at {at:O}.")
            : HealthCheckResult.Unhealthy("Projects have not been loaded from the database yet."));

    /// <summary>A payload of comma-separated names refreshes those rows; null, empty or <c>*</c> reloads everything.</summary>
    private void RequestReload(string? payload)
    {
        lock (pendingGate)
        {
            if (string.IsNullOrEmpty(payload) || payload == "*")
            {
                pendingNames = null;
            }
            else
            {
                pendingNames?.UnionWith(payload.Split(',', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        try
        {
            reloadRequested.Release();
        }
        catch (SemaphoreFullException)
        {
            // A reload is already pending; it will see this change too.
        }
    }

    private async Task LoadAllAsync(CancellationToken cancellationToken) =>
        Publish(await QueryAsync(names: null, cancellationToken));

    private async Task RefreshAsync(HashSet<string> names, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return;
        }

        var rows = await QueryAsync([.. names], cancellationToken);
        var merged = new Dictionary<string, Project>(current.ByName, StringComparer.Ordinal);
        foreach (var name in names)
        {
            // A name without a row was deleted by hand; nothing in rdev deletes rows.
            merged.Remove(name);
        }
        foreach (var project in rows)
        {
            merged[project.Name] = project;
        }

        Publish(merged.Values);
    }

    private void Publish(IEnumerable<Project> projects)
    {
        var sorted = projects.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        current = new Snapshot(sorted, sorted.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal), DateTimeOffset.UtcNow);
    }

    private async Task<List<Project>> QueryAsync(string[]? names, CancellationToken cancellationToken)
    {
        var projects = new List<Project>();
        await using var command = dataSource.CreateCommand(
            """
            SELECT name, status, description, runtime, namespace, pod_name, container, workspace,
                   allowed_commands, max_concurrent_commands, runnable, updated_at
            FROM projects
            WHERE @names::text[] IS NULL OR name = ANY(@names)
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]?>("names", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = names });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var podName = reader.IsDBNull(5) ? null : reader.GetString(5);
            projects.Add(new Project(
                Name: reader.GetString(0),
                Status: reader.GetString(1),
                Description: reader.IsDBNull(2) ? null : reader.GetString(2),
                Runtime: reader.GetString(3),
                Pod: podName is null ? null : new ProjectPod(
                    reader.IsDBNull(4) ? "" : reader.GetString(4), podName, reader.IsDBNull(6) ? "" : reader.GetString(6)),
                Workspace: reader.GetString(7),
                AllowedCommands: reader.GetFieldValue<string[]>(8),
                MaxConcurrentCommands: reader.GetInt32(9),
                Runnable: reader.GetBoolean(10),
                UpdatedAt: reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return projects;
    }

    private sealed record Snapshot(Project[] Sorted, FrozenDictionary<string, Project> ByName, DateTimeOffset? LoadedAt)
    {
        public static readonly Snapshot Empty = new([], FrozenDictionary<string, Project>.Empty, null);
    }

    [LoggerMessage(LogLevel.Warning, "Cannot load projects at start-up; retrying in the background")]
    private static partial void LogStartupLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Cannot reload projects; serving the last known state, retrying in {Delay}")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, TimeSpan delay);
}
