using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rdev.Api.Commands;

/// <summary>The command and streaming metrics of SPEC section 8 (meter <c>Rdev.Api</c>).</summary>
public sealed class CommandMetrics
{
    public const string MeterName = "Rdev.Api";

    private readonly Counter<long> started;
    private readonly Counter<long> finished;
    private readonly Histogram<double> duration;
    private readonly UpDownCounter<long> running;
    private readonly UpDownCounter<long> streams;
    private readonly Counter<long> eventsSent;
    private readonly Counter<long> replaced;

    public CommandMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        started = meter.CreateCounter<long>("rdev_commands_started_total", description: "Commands started, by project and kind.");
        finished = meter.CreateCounter<long>("rdev_commands_finished_total", description: "Commands finished, by project, kind and final status.");
        duration = meter.CreateHistogram<double>("rdev_command_duration_seconds", unit: "s", description: "Run time of finished commands.");
        running = meter.CreateUpDownCounter<long>("rdev_commands_running", description: "Commands running on this replica, by project.");
        streams = meter.CreateUpDownCounter<long>("rdev_sse_streams_active", description: "Open SSE streams on this replica.");
        eventsSent = meter.CreateCounter<long>("rdev_sse_events_sent_total", description: "SSE events written to clients.");
        replaced = meter.CreateCounter<long>("rdev_output_replaced_total",
            description: "Characters of command output stored as U+FFFD (NUL, lone surrogates, invalid UTF-8), by kind.");
    }

    public void Started(string project, string kind)
    {
        started.Add(1, new TagList { { "project", project }, { "kind", kind } });
        running.Add(1, new TagList { { "project", project } });
    }

    /// <summary>A command taken over from another replica runs here now (it was counted as started where it started).</summary>
    public void Attached(string project) => running.Add(1, new TagList { { "project", project } });

    /// <summary>This replica let go of a running command (shutdown, lost lease): it runs on elsewhere.</summary>
    public void Detached(string project) => running.Add(-1, new TagList { { "project", project } });

    public void Finished(string project, string kind, string status, TimeSpan elapsed, bool wasRunning)
    {
        finished.Add(1, new TagList { { "project", project }, { "kind", kind }, { "status", status } });
        duration.Record(elapsed.TotalSeconds, new TagList { { "project", project }, { "kind", kind } });
        if (wasRunning)
        {
            running.Add(-1, new TagList { { "project", project } });
        }
    }

    // By kind only: the count is about what programs print, and a project label would add a series per project.
    public void Replaced(string kind, long count)
    {
        if (count > 0)
        {
            replaced.Add(count, new TagList { { "kind", kind } });
        }
    }

    public void StreamOpened() => streams.Add(1);

    public void StreamClosed() => streams.Add(-1);

    public void EventsSent(int count) => eventsSent.Add(count);
}
