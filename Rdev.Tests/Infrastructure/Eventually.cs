namespace Rdev.Tests.Infrastructure;

/// <summary>
/// The one way tests wait for something to happen: poll a condition until it holds or a generous deadline passes,
/// then fail saying what was awaited and, when given, what was seen last. Never a fixed sleep.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // Short enough that a condition met in memory is seen at once, long enough not to hammer an HTTP endpoint.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task TrueAsync(Func<bool> condition, string because, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), because, timeout);

    public static async Task TrueAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null) =>
        await ValueAsync(async () => (await condition(), (object?)null), because, timeout);

    /// <summary>
    /// Polls <paramref name="probe"/> until it reports done, and returns the last value it read. On a timeout the
    /// message shows that value, so a failure says what the system looked like instead of only "timed out".
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<(bool Done, T Value)>> probe, string because, TimeSpan? timeout = null)
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

            await Task.Delay(Interval);
        }
    }
}
