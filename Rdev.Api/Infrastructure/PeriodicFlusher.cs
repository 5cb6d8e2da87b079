namespace Rdev.Api.Infrastructure;

/// <summary>
/// A background service that writes what it gathered in memory every <c>interval</c> (real time: the cadence is not
/// part of what tests fake), and once more when the host stops.
/// </summary>
/// <remarks>
/// The last flush is best effort: in a host whose stop races its disposal (WebApplicationFactory) the database may
/// already be gone, and up to one interval of data is lost. <see cref="FlushAsync"/> must not throw for an
/// unreachable database: it is called from a loop that must keep running.
/// </remarks>
public abstract class PeriodicFlusher(TimeSpan interval) : BackgroundService
{
    protected abstract Task FlushAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }
}
