namespace Rdev.Tests.Discovery;

/// <summary>Bounded polling: waits for a condition with a generous deadline, never a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task TrueAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout ?? DefaultTimeout} waiting until {because}.");
            }

            await Task.Delay(5);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout ?? DefaultTimeout} waiting until {because}.");
            }

            await Task.Delay(20);
        }
    }
}
