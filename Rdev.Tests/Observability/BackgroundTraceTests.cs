using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Rdev.Api.Data;
using Rdev.Tests.Commands;
using Rdev.Tests.Discovery;
using Rdev.Tests.Infrastructure;

namespace Rdev.Tests.Observability;

/// <summary>
/// What the dashboard receives: the spans the API's own OpenTelemetry pipeline exports (not what a raw
/// ActivityListener sees, which ignores the sampler).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class BackgroundTraceTests : IAsyncLifetime
{
    private readonly CommandsHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task BackgroundDatabaseCallsExportNoTraceWhileARequestsDatabaseCallsShowUnderTheRequest()
    {
        var exported = new ConcurrentQueue<Activity>();
        var (factory, api) = host.StartReplica(services: services => services.ConfigureOpenTelemetryTracerProvider(
            tracing => tracing.AddProcessor(new SimpleActivityExportProcessor(new Collector(exported)))));

        // Background work that certainly touched the database by now: migrations, the bootstrap key and the first
        // heartbeat run before the host serves, and this waits for the NOTIFY listener's LISTEN.
        await factory.Services.GetRequiredService<PostgresNotifications>().Connected.WaitAsync(TimeSpan.FromSeconds(30));
        var response = await api.GetAsync("/api/v1/keys");
        response.EnsureSuccessStatusCode();

        Activity? request = null;
        await Eventually.TrueAsync(() =>
        {
            request = exported.FirstOrDefault(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") is "/api/v1/keys");
            return request is not null && exported.Any(a => a.Source.Name == "Npgsql" && a.TraceId == request.TraceId);
        }, "the request and its database calls are exported");

        Assert.All(exported.Where(a => a.TraceId == request!.TraceId && a.Source.Name == "Npgsql"),
            span => Assert.NotEqual(default, span.ParentSpanId));
        var roots = exported.Where(a => a.Source.Name == "Npgsql" && a.ParentSpanId == default).Select(a => a.DisplayName).ToList();
        Assert.True(roots.Count == 0, $"Background database calls exported as traces of their own: {string.Join(", ", roots)}");
    }

    private sealed class Collector(ConcurrentQueue<Activity> spans) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var span in batch)
            {
                spans.Enqueue(span);
            }

            return ExportResult.Success;
        }
    }
}
