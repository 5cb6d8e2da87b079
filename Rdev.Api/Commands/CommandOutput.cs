using System.Text;
using System.Text.Json;

namespace Rdev.Api.Commands;

/// <summary><c>GET /commands/{id}/output</c>: stdout and stderr as stored, in order; claude events as JSON lines.</summary>
internal static class CommandOutput
{
    public static async Task WriteAsync(CommandStore store, Guid id, Stream body, CancellationToken ct)
    {
        long after = 0;
        while (true)
        {
            var events = await store.ReadEventsAsync(id, after, 500, ct);
            if (events.Count == 0)
            {
                return;
            }

            foreach (var e in events)
            {
                var text = e.Type switch
                {
                    EventTypes.Output => JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString(),
                    EventTypes.Claude => e.Data + "\n",
                    _ => null,
                };
                if (!string.IsNullOrEmpty(text))
                {
                    await body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
                }

                after = e.Seq;
            }
        }
    }
}
