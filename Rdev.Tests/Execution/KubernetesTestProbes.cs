using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;

namespace Rdev.Tests.Execution;

/// <summary>What the host sees of commands the fake API server runs as local processes, and gauge readings.</summary>
internal static class KubernetesTestProbes
{
    /// <summary>Live (not zombie) processes on this host whose process group is <paramref name="pgid"/>.</summary>
    public static List<int> ProcessesInGroup(long pgid)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            // "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] != "Z" && fields[2] == pgid.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                members.Add(pid);
            }
        }
        return members;
    }

    /// <summary>SIGKILL to a whole process group.</summary>
    public static void KillGroup(long pgid) => _ = Kill(-(int)pgid, 9);

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>Reads one observable gauge of the meters made by one factory (other tests run their own).</summary>
    public sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener listener = new();
        private int? last;

        public GaugeReader(IMeterFactory factory, string name)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == name && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<int>((_, value, _, _) => last = value);
            listener.Start();
        }

        public int? Read()
        {
            last = null;
            listener.RecordObservableInstruments();
            return last;
        }

        public void Dispose() => listener.Dispose();
    }
}
