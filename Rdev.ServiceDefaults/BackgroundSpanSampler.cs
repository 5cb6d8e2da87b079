using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Drops client spans (Npgsql, HttpClient, the Kubernetes client) that have no parent: calls made by background loops
/// (heartbeats, cache refreshes, sweeps, the NOTIFY listener, discovery's writes and watches). Every few seconds each
/// of them would start a trace of its own, and the dashboard's request traces would drown in them. The same calls
/// made while serving a request or running a command have a parent and are kept; everything else is decided by
/// <see cref="ParentBasedSampler"/>. Metrics do not depend on spans, so the Npgsql and HttpClient meters still count
/// every call.
/// </summary>
public sealed class BackgroundSpanSampler(Sampler inner) : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    public BackgroundSpanSampler()
        : this(new ParentBasedSampler(new AlwaysOnSampler()))
    {
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Kind == ActivityKind.Client && samplingParameters.ParentContext.TraceId == default
            ? Drop
            : inner.ShouldSample(samplingParameters);
}
