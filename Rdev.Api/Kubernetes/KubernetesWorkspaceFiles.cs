using System.Buffers;
using System.Globalization;
using System.Text;
using Polly.CircuitBreaker;
using Rdev.Api.ClaudeConfig;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// Configuration items in a pod: each operation is one exec of a constant <see cref="WorkspaceScripts">script</see>
/// through <see cref="KubernetesCommandRunner.ExecAsync"/> (KubernetesClient over WebSocket, the runner's circuit and
/// failure classification), with the item's content on stdin for a write.
/// </summary>
public sealed partial class KubernetesWorkspaceFiles(KubernetesCommandRunner runner, ILogger<KubernetesWorkspaceFiles> logger) : IWorkspaceFiles
{
    /// <summary>Limit for one file operation, connection included; past it the pod counts as unreachable.</summary>
    public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A folder with more entries than this lists the first ones the pod's shell finds.</summary>
    public const int MaxListedItems = 10_000;

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CleanupRetryDelay = TimeSpan.FromMilliseconds(500);

    public async Task<IReadOnlyList<WorkspaceEntry>> ListAsync(RunTarget target, ConfigType type, CancellationToken cancellationToken)
    {
        var listing = new ScriptListing(target.Project, logger);
        var command = WorkspaceScripts.Command(WorkspaceScripts.List, target.Workspace, type.Folder,
            type.ItemsAreFolders ? "folders" : "files", WorkspaceEntry.HeadBytes.ToString(CultureInfo.InvariantCulture));
        var exitCode = await ExecAsync(target, "kubernetes config list", command, stdin: null, listing.Feed, cancellationToken);
        if (exitCode != 0)
        {
            throw Failure(exitCode, target, "list");
        }

        return listing.Finish();
    }

    public async Task<WorkspaceFile?> ReadAsync(RunTarget target, ItemLocation item, int maxBytes, CancellationToken cancellationToken)
    {
        // The mtime line, then one byte more than allowed, so a longer file shows as truncated.
        var output = new ScriptOutput(maxBytes + 1 + 32);
        var command = WorkspaceScripts.Command(WorkspaceScripts.Read, target.Workspace, item.Folder, item.FileName,
            (maxBytes + 1).ToString(CultureInfo.InvariantCulture));
        var exitCode = await ExecAsync(target, "kubernetes config read", command, stdin: null, output.Append, cancellationToken);
        if (exitCode == WorkspaceScripts.NotFound)
        {
            return null;
        }

        if (exitCode != 0)
        {
            throw Failure(exitCode, target, "read");
        }

        var bytes = output.WrittenSpan;
        var newline = bytes.IndexOf((byte)'\n');
        if (newline < 0 || !long.TryParse(bytes[..newline], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw Unexpected(target, "read");
        }

        var content = bytes[(newline + 1)..];
        var modified = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return content.Length > maxBytes
            ? new WorkspaceFile(content[..maxBytes].ToArray(), modified, Truncated: true)
            : new WorkspaceFile(content.ToArray(), modified, Truncated: false);
    }

    public async Task<DateTimeOffset?> WriteAsync(RunTarget target, ItemLocation item, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var output = new ScriptOutput(64);
        var command = WorkspaceScripts.Command(WorkspaceScripts.Write, target.Workspace, item.Folder, item.FileName,
            content.Length.ToString(CultureInfo.InvariantCulture));
        int exitCode;
        try
        {
            exitCode = await ExecAsync(target, "kubernetes config write", command, content, output.Append, cancellationToken);
        }
        catch (RuntimeUnavailableException e) when (e.Blame == RuntimeBlame.Runtime && MayHaveStarted(e))
        {
            await CleanupAsync(target, item);
            throw;
        }

        if (exitCode != 0)
        {
            throw Failure(exitCode, target, "write");
        }

        var text = Encoding.ASCII.GetString(output.WrittenSpan).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
    }

    public async Task<bool> DeleteAsync(RunTarget target, ItemLocation item, CancellationToken cancellationToken)
    {
        var command = WorkspaceScripts.Command(WorkspaceScripts.Delete, target.Workspace, item.Folder, item.FileName,
            item.OwnsFolder ? "folder" : "file");
        var exitCode = await ExecAsync(target, "kubernetes config delete", command, stdin: null, new ScriptOutput(0).Append, cancellationToken);
        return exitCode switch
        {
            0 => true,
            WorkspaceScripts.NotFound => false,
            _ => throw Failure(exitCode, target, "delete"),
        };
    }

    /// <summary>
    /// A write whose connection was lost may have left its temporary file: a runtime that kills the process on
    /// disconnect gives the script no chance to remove it. Best effort, twice: at once, and again after a moment for a
    /// writer that was still finishing (a child the kill missed); if the pod stays unreachable, the next write of the
    /// item removes the file.
    /// </summary>
    private async Task CleanupAsync(RunTarget target, ItemLocation item)
    {
        var command = WorkspaceScripts.Command(WorkspaceScripts.Cleanup, target.Workspace, item.Folder, item.FileName, "");
        for (var pass = 0; pass < 2; pass++)
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            try
            {
                await Task.Delay(pass * CleanupRetryDelay, timeout.Token);
                await ExecAsync(target, "kubernetes config cleanup", command, stdin: null, new ScriptOutput(0).Append, timeout.Token);
            }
            catch (Exception e) when (e is RuntimeUnavailableException or OperationCanceledException)
            {
                LogCleanupFailed(logger, e, item.Path, target.Project);
                if (e is not RuntimeUnavailableException unavailable || !MayHaveStarted(unavailable))
                {
                    // Kubernetes refuses execs right now: the next write of the item cleans up.
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Whether a failed write may have started its script: a connection lost or timed out, even while opening, may
    /// have; a refusal before the upgrade (an HTTP status) or an open circuit started nothing.
    /// </summary>
    private static bool MayHaveStarted(RuntimeUnavailableException exception) => exception.InnerException switch
    {
        null => true,
        BrokenCircuitException => false,
        var inner => ExecFailure.Classify(inner)?.StatusCode is null,
    };

    /// <summary>Runs one script to its end and returns its exit code, feeding stdout to <paramref name="onStdout"/>.</summary>
    private async Task<int> ExecAsync(
        RunTarget target, string operation, IReadOnlyList<string> command, ReadOnlyMemory<byte>? stdin,
        Func<ReadOnlyMemory<byte>, bool> onStdout, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(OperationTimeout);
        try
        {
            var connection = await runner.ExecAsync(target, command, stdin is not null, operation, timeout.Token);

            await using (connection)
            {
                var sending = stdin is { } data ? SendAsync(connection, data, timeout.Token) : Task.CompletedTask;
                var stderr = new ScriptOutput(1024);
                await foreach (var chunk in connection.Output.ReadAllAsync(timeout.Token))
                {
                    if (chunk.Stream == OutputStream.Stderr)
                    {
                        stderr.Append(chunk.Data);
                    }
                    else if (!onStdout(chunk.Data))
                    {
                        throw Unexpected(target, operation);
                    }
                }

                var exitCode = await connection.Exited.WaitAsync(timeout.Token);
                await sending;
                if (exitCode == KubernetesCommandRunner.LostExitCode)
                {
                    throw new RuntimeUnavailableException("The connection to the project's pod was lost; nothing was changed unless the pod finished the change.", RuntimeBlame.Runtime);
                }

                if (exitCode is not (0 or WorkspaceScripts.NotFound) && stderr.WrittenCount > 0)
                {
                    LogScriptStderr(logger, operation, target.Pod, target.Project, exitCode, Encoding.UTF8.GetString(stderr.WrittenSpan));
                }

                return exitCode;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RuntimeUnavailableException("The project's pod did not answer in time.", RuntimeBlame.Runtime);
        }
    }

    /// <summary>
    /// Sends stdin. A failure is not thrown here: it shows as the connection's lost exit, or it does not matter because
    /// the script exited without reading everything (refusing a link, say) while the rest was on its way, and the
    /// server's close then races the send (an InvalidOperationException from the WebSocket among others).
    /// </summary>
    private async Task SendAsync(ExecConnection connection, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await connection.SendStdinAsync(data, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogStdinFailed(logger, e);
        }
    }

    private Exception Failure(int exitCode, RunTarget target, string operation) => exitCode switch
    {
        WorkspaceScripts.WorkspaceMissing => new RuntimeUnavailableException("The project's workspace cannot be entered in its pod.", RuntimeBlame.Project),
        WorkspaceScripts.Unsafe => new UnsafeWorkspacePathException("A folder or file on the item's path is a symbolic link (or a folder stands where the file belongs); rdev does not follow links."),
        WorkspaceScripts.Refused => new RuntimeUnavailableException("The pod's file system refused the change (permissions or space).", RuntimeBlame.Project),
        WorkspaceScripts.ShortInput => new RuntimeUnavailableException("The content did not arrive completely; nothing was changed.", RuntimeBlame.Runtime),
        WorkspaceScripts.MissingTool => new RuntimeUnavailableException(
            "The project's container has no 'stat' (GNU coreutils or busybox), which rdev needs to manage its configuration.", RuntimeBlame.Project),
        _ => Unexpected(target, operation, exitCode),
    };

    private RuntimeUnavailableException Unexpected(RunTarget target, string operation, int? exitCode = null)
    {
        LogScriptFailed(logger, operation, target.Pod, target.Project, exitCode);
        return new RuntimeUnavailableException("The workspace script failed in the project's pod; see the API log.", RuntimeBlame.Project);
    }

    [LoggerMessage(LogLevel.Information, "Could not remove temporary files of {Item} in project {Project} after a failed write")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string item, string project);

    [LoggerMessage(LogLevel.Warning, "{Operation} in pod {Pod} for project {Project} exited with {ExitCode}: {Stderr}")]
    private static partial void LogScriptStderr(ILogger logger, string operation, string? pod, string project, int exitCode, string stderr);

    [LoggerMessage(LogLevel.Debug, "Sending stdin to an exec failed")]
    private static partial void LogStdinFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "The {Operation} script in pod {Pod} for project {Project} failed (exit code {ExitCode}); does the image have sh, head, stat, tr and wc?")]
    private static partial void LogScriptFailed(ILogger logger, string operation, string? pod, string project, int? exitCode);
}
