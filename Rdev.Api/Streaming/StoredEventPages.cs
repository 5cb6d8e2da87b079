using Dapper;
using Npgsql;
using Rdev.Api.Commands;

namespace Rdev.Api.Streaming;

/// <summary>
/// Reads a command's stored events for streams, a page at a time, bounded in events and in bytes. One event larger than
/// the byte bound still makes a page of its own (an event is never split), so a page holds at most one event past it.
/// </summary>
public sealed class StoredEventPages(NpgsqlDataSource dataSource, StreamMetrics metrics)
{
    public async Task<StreamEvent[]> ReadAsync(Guid id, long afterSeq, int maxEvents, long maxBytes, CancellationToken ct)
    {
        // octet_length reads the stored size without detoasting; the running sum stops the page at the byte bound.
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<CommandEvent>(new CommandDefinition("""
            SELECT seq AS Seq, type AS Type, data AS Data FROM (
                SELECT seq, type, data, sum(octet_length(data)) OVER (ORDER BY seq) - octet_length(data) AS before
                FROM command_events WHERE command_id = @id AND seq > @afterSeq ORDER BY seq LIMIT @maxEvents
            ) page
            WHERE before < @maxBytes ORDER BY seq
            """, new { id, afterSeq, maxEvents, maxBytes }, cancellationToken: ct));
        var events = rows.Select(StreamEvent.From).ToArray();
        metrics.StoreRead(events.Sum(e => (long)e.Frame.Length));
        return events;
    }
}
