namespace Rdev.Cli;

/// <summary>Rows in aligned columns under a header, for listings a person reads (--json is for programs).</summary>
public static class Table
{
    public static void Write(TextWriter output, string[] headers, IReadOnlyList<string?[]> rows)
    {
        var widths = headers.Select((header, column) =>
            rows.Select(row => row[column]?.Length ?? 1).Append(header.Length).Max()).ToArray();
        WriteRow(output, headers, widths);
        foreach (var row in rows)
        {
            WriteRow(output, row, widths);
        }
    }

    private static void WriteRow(TextWriter output, string?[] cells, int[] widths)
    {
        var line = string.Join("  ", cells.Select((cell, column) => (cell ?? "-").PadRight(widths[column])));
        output.WriteLine(line.TrimEnd());
    }

    /// <summary>A timestamp as a person reads it: UTC, to the second.</summary>
    public static string? Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string? List(IEnumerable<string>? items) => items is null ? null : string.Join(",", items) is { Length: > 0 } joined ? joined : null;
}
