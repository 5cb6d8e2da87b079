namespace Rdev.Tests.Infrastructure;

/// <summary>
/// The one way tests wait for something to happen: poll a condition until it holds or a generous deadline passes,
/// then fail saying what was awaited and, when given, what was seen last. Never a fixed sleep.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // An in-memory condition is cheap to check, so it is checked often; one that goes over HTTP or to the database
    // is checked less often so the polling does not become the load.
    private static readonly TimeSpan InMemoryInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan RemoteInterval = TimeSpan.FromMilliseconds(20);

    public static Task TrueAsync(Func<bool> condition, string because, TimeSpan? timeout = null) =>
        ValueAsync(() => Task.FromResult((condition(), (object?)null)), because, timeout, InMemoryInterval);

    public static Task TrueAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null) =>
        ValueAsync(async () => (await condition(), (object?)null), because, timeout);

    /// <summary>
    /// Polls <paramref name="probe"/> until it reports done, and returns the last value it read. On a timeout the
    /// message shows that value, so a failure says what the system looked like instead of only "timed out".
    /// <paramref name="interval"/> zero only yields between checks, for a test that must act the moment something
    /// appears.
    /// </summary>
    public static async Task<T> ValueAsync<T>(
        Func<Task<(bool Done, T Value)>> probe, string because, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var (done, value) = await probe();
            if (done)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(value is null
                    ? $"Timed out after {limit} waiting until {because}."
                    : $"Timed out after {limit} waiting until {because}. Last seen: {value}");
            }

            if ((interval ?? RemoteInterval) == TimeSpan.Zero)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(interval ?? RemoteInterval);
            }
        }
    }
}
