using System.Buffers;
using System.Globalization;
using System.Text;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>Collects output up to a limit; <see cref="Append"/> answers false once the limit is passed.</summary>
internal sealed class ScriptOutput(int limit)
{
    private readonly ArrayBufferWriter<byte> buffer = new(Math.Max(limit, 1));

    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    public int WrittenCount => buffer.WrittenCount;

    public bool Append(ReadOnlyMemory<byte> data)
    {
        var room = limit - buffer.WrittenCount;
        buffer.Write(data.Span[..Math.Min(room, data.Length)]);
        return data.Length <= room;
    }
}

/// <summary>
/// Reads the list script's NUL-terminated fields (name, "size mtime", head) as they stream in, holding one field
/// at a time, each bounded.
/// </summary>
internal sealed partial class ScriptListing(string project, ILogger logger)
{
    private static readonly int[] FieldLimits = [1024, 64, WorkspaceEntry.HeadBytes];
    private readonly List<WorkspaceEntry> entries = [];
    private readonly string?[] fields = new string?[3];
    private readonly ArrayBufferWriter<byte> field = new(1024);
    private int index;
    private bool full;

    public bool Feed(ReadOnlyMemory<byte> data)
    {
        var rest = data.Span;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)0);
            var part = end < 0 ? rest : rest[..end];
            if (field.WrittenCount + part.Length > FieldLimits[index])
            {
                return false;
            }

            field.Write(part);
            if (end < 0)
            {
                break;
            }

            Complete();
            rest = rest[(end + 1)..];
        }

        return true;
    }

    public IReadOnlyList<WorkspaceEntry> Finish() => entries;

    private void Complete()
    {
        fields[index] = Encoding.UTF8.GetString(field.WrittenSpan);
        field.Clear();
        if (++index < fields.Length)
        {
            return;
        }

        index = 0;
        var meta = fields[1]!.Split(' ');
        if (meta.Length != 2
            || !long.TryParse(meta[0], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || !long.TryParse(meta[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return;
        }

        if (entries.Count >= KubernetesWorkspaceFiles.MaxListedItems)
        {
            if (!full)
            {
                full = true;
                LogTooManyItems(logger, project, KubernetesWorkspaceFiles.MaxListedItems);
            }

            return;
        }

        entries.Add(new WorkspaceEntry(fields[0]!, size, DateTimeOffset.FromUnixTimeSeconds(seconds), fields[2]!));
    }

    [LoggerMessage(LogLevel.Warning, "Project {Project} has more than {Max} configuration items of one type; listing the first ones")]
    private static partial void LogTooManyItems(ILogger logger, string project, int max);
}
