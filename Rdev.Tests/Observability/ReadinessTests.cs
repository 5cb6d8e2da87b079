using System.Net;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Observability;

public sealed class ReadinessTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task ReadyNamesTheRuntimeWhenTheLocalProjectsRootIsMissing()
    {
        var missing = Path.Combine(host.Root.FullName, "not-there");
        var api = host.StartApi(new Dictionary<string, string?> { ["Rdev:Local:ProjectsRoot"] = missing });

        var problem = await (await api.GetAsync("/ready")).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "NOT_READY");
        Assert.Equal("unhealthy", problem.GetProperty("checks").GetProperty("runtime").GetProperty("status").GetString());
        Assert.Equal("healthy", problem.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());

        Directory.CreateDirectory(missing);
        await Eventually.TrueAsync(async () => (await api.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "ready once the folder exists");
    }
}
