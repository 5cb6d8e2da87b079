using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Rdev.Api.Data;

namespace Rdev.Api.Projects;

/// <summary>
/// This replica's in-memory copy of the <c>projects</c> table. It loads every row at start-up and again whenever
/// discovery's NOTIFY on <see cref="Channel"/> arrives (or the notification connection comes back, when changes may
/// have been missed). Loads are coalesced, and a failed load keeps the last known state while it retries, so the API
/// keeps answering through a discovery restart or a database hiccup.
/// </summary>
public sealed class ProjectRegistry(NpgsqlDataSource dataSource, PostgresNotifications notifications, ILogger<ProjectRegistry> logger)
    : BackgroundService, IHealthCheck
{
    public const string Channel = "rdev_projects";
    private static readonly TimeSpan StartupLoadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim reloadRequested = new(0, 1);
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
        subscription = notifications.Subscribe(Channel, _ => RequestReload());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartupLoadTimeout);
        try
        {
            await LoadAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Cannot load projects at start-up ({Message}); retrying in the background", ex.Message);
            RequestReload();
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
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reloadRequested.WaitAsync(stoppingToken);
                await LoadAsync(stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures)) + Random.Shared.Next(100));
                logger.LogWarning("Cannot reload projects ({Message}); serving the last known state, retrying in {Delay}", ex.Message, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                RequestReload();
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(current.LoadedAt is { } at
            ? HealthCheckResult.Healthy($"{current.Sorted.Length} projects, loaded at {at:O}.")
            : HealthCheckResult.Unhealthy("Projects have not been loaded from the database yet."));

    private void RequestReload()
    {
        try
        {
            reloadRequested.Release();
        }
        catch (SemaphoreFullException)
        {
            // A reload is already pending; it will see this change too.
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var projects = new List<Project>();
        await using (var command = dataSource.CreateCommand(
            """
            SELECT name, status, description, runtime, namespace, pod_name, container, workspace,
                   allowed_commands, max_concurrent_commands, runnable, updated_at
            FROM projects
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
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
        }

        current = new Snapshot(
            [.. projects.OrderBy(p => p.Name, StringComparer.Ordinal)],
            projects.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal),
            DateTimeOffset.UtcNow);
    }

    private sealed record Snapshot(Project[] Sorted, FrozenDictionary<string, Project> ByName, DateTimeOffset? LoadedAt)
    {
        public static readonly Snapshot Empty = new([], FrozenDictionary<string, Project>.Empty, null);
    }
}
