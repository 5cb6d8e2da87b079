using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Cli;

/// <summary>A run of <c>rdev</c> that follows a command while its API process is killed and started again.</summary>
[Trait("Category", "Slow")]
public sealed class CliReconnectTests : IAsyncLifetime
{
    // 40 numbered lines, one every 0.2 s, then exit 3: long enough to kill the API in the middle.
    private const string Counting = "i=1; while [ $i -le 40 ]; do echo \"line $i\"; sleep 0.2; i=$((i+1)); done; exit 3";

    private readonly CliHost cli = new();

    public Task InitializeAsync() => cli.InitializeAsync();

    public Task DisposeAsync() => cli.DisposeAsync();

    [Fact]
    public async Task AFollowedCommandShowsEveryLineOnceAcrossAnApiRestart()
    {
        using var follow = await cli.StartAsync("shell", CliHost.Project, Counting);
        await Eventually.TrueAsync(() => follow.Stdout.Contains("line 5\n"), "the first lines arrive: " + follow);

        var port = cli.Api.BaseAddress.Port;
        Assert.Equal(0, cli.Api.Signal(9));
        Assert.True(cli.Api.Process.WaitForExit(TimeSpan.FromSeconds(10)));
        using var restarted = cli.StartApi(port);

        Assert.Equal(3, await follow.WaitAsync(TimeSpan.FromSeconds(120)));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => $"line {i}"), follow.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", follow.Stderr);
    }
}
