using System.Collections.Concurrent;
using System.Diagnostics;
using Rdev.Tests.Commands;
using Rdev.Tests.Infrastructure;
using Rdev.Tests.Kubernetes;

namespace Rdev.Tests.Observability;

[Collection(SerialCollection.Name)]
[Trait("Category", "Slow")]
public sealed class CommandTracingTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();
    private FakeKubeApiServer server = null!;

    public async Task InitializeAsync()
    {
        await host.InitializeAsync();
        server = await host.StartFakeKubernetesAsync();
    }

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task CommandSpanCarriesProjectKindAndIdWithKubernetesExecAndPostgresAsChildren()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Rdev", StringComparison.Ordinal) || source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var (settings, services) = CommandsHost.KubernetesRuntime(server);
        var api = host.StartApi(settings, services);
        await host.AddPodProjectAsync("traced", server);
        await CommandsHost.WaitForProjectAsync(api, "traced");

        var command = await CommandsHost.StartAsync(api, "traced", "shell", new { command = "echo traced" });
        var id = command.GetProperty("id").GetString()!;
        await CommandsHost.WaitForFinalAsync(api, id);

        Activity? span = null;
        await Eventually.TrueAsync(() =>
        {
            span = spans.FirstOrDefault(a => a.DisplayName == "command shell" && (string?)a.GetTagItem("command.id") == id);
            return Task.FromResult(span is not null);
        }, "the command span");
        Assert.Equal("traced", span!.GetTagItem("project"));
        Assert.Equal("shell", span.GetTagItem("command.kind"));
        Assert.Contains(spans, a => a.Source.Name == "Rdev.Api.Kubernetes" && a.ParentSpanId == span.SpanId);
        Assert.Contains(spans, a => a.Source.Name == "Npgsql" && a.ParentSpanId == span.SpanId);
    }
}
