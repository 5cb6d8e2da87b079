using System.Diagnostics;
using k8s;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Rdev.Api.Execution;

namespace Rdev.Api.Kubernetes;

/// <summary>
/// The Kubernetes runtime: runs argv in the project's pod through the exec API over a WebSocket (KubernetesClient,
/// never kubectl), in the workspace and in a new process group, following the protocol of <see cref="ExecWrapper"/>.
/// </summary>
/// <remarks>
/// <para>Pod image requirements: see <see cref="RunFolder"/> (a POSIX <c>sh</c>, <c>setsid</c>, <c>mkfifo</c> and coreutils or busybox).</para>
/// <para>
/// A command runs detached in the pod with a run folder (<see cref="RunFolder"/>): the start exec names its process
/// group once it runs and then goes on as the follow script (<see cref="KubernetesRun"/>), which streams its spool and
/// finally its exit code (128 + n when signal n ended it); a follow exec of its own opens again from the bytes
/// received when that drops. Short scripts (signal, input, remove) are execs of
/// their own; one that ends without a Status is <see cref="LostExitCode"/>, an outage.
/// </para>
/// <para>
/// Failures to start are <see cref="RuntimeUnavailableException"/>s with a safe message; their
/// <see cref="RuntimeUnavailableException.Blame"/> tells a pod problem (missing, not running, workspace or wrapper
/// missing) from a Kubernetes one (API unreachable, refused, circuit open).
/// </para>
/// </remarks>
public sealed partial class KubernetesCommandRunner(
    IKubernetes client,
    KubernetesCircuit circuit,
    KubernetesNamespace defaultNamespace,
    IOptions<KubernetesRuntimeOptions> options,
    ILogger<KubernetesCommandRunner> logger) : ICommandRunner
{
    /// <summary>Exit code when the exec ended without a status: the command's outcome is unknown.</summary>
    public const int LostExitCode = -1;

    public const string ActivitySourceName = "Rdev.Api.Kubernetes";

    private static readonly ActivitySource Activities = new(ActivitySourceName);

    public async Task<IRunningProcess> StartAsync(RunTarget target, RunRequest request, CancellationToken cancellationToken)
    {
        // The start exec goes on as the follow script: the first output needs one exec, not two.
        var command = RunFolder.StartCommand("", request, target.Workspace, follow: true);
        var connection = await ConnectAsync(target, command, expectMarker: true, cancellationToken);
        long processGroup = 0;
        try
        {
            processGroup = await connection.Started.WaitAsync(options.Value.StartTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            if (processGroup == 0)
            {
                await connection.DisposeAsync();
            }
        }

        if (processGroup == 0)
        {
            LogNotStarted(logger, target.Project, target.Pod, connection.StartFailure ?? $"no process group marker within {options.Value.StartTimeout}");
            throw Unavailable("The command could not be started in the project's workspace.", projectProblem: true);
        }

        LogStarted(logger, processGroup, target.Pod, target.Project);
        return new KubernetesRun(this, target, request.CommandId, processGroup, default, connection, logger);
    }

    public async Task<IRunningProcess> AttachAsync(RunTarget target, Guid commandId, RunOffsets offsets, CancellationToken cancellationToken)
    {
        // A pod that is gone fails here (blaming the project); a run folder that is gone is the script's first answer.
        var connection = await OpenFollowAsync(target, commandId, offsets, cancellationToken);
        return new KubernetesRun(this, target, commandId, 0, offsets, connection, logger);
    }

    public async Task RemoveRunAsync(RunTarget target, Guid commandId, CancellationToken cancellationToken) =>
        await RunScriptAsync(target, RunFolder.RemoveCommand("", commandId), "kubernetes remove run", cancellationToken);

    public async Task<IReadOnlyList<Guid>> ListRunsAsync(RunTarget target, CancellationToken cancellationToken)
    {
        try
        {
            var (_, stdout) = await RunScriptAsync(target, RunFolder.ListCommand(""), "kubernetes list runs", cancellationToken);
            return [.. stdout.Split('\n').Select(n => Guid.TryParse(n, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty)];
        }
        catch (RuntimeUnavailableException)
        {
            return []; // A pod that is gone took its run folders with it.
        }
    }

    internal Task<ExecConnection> OpenFollowAsync(RunTarget target, Guid commandId, RunOffsets offsets, CancellationToken cancellationToken) =>
        ConnectAsync(target, RunFolder.FollowCommand("", commandId, offsets), expectMarker: false, cancellationToken, operation: "kubernetes follow");

    /// <summary>Runs a short script of <see cref="RunFolder"/> in the pod: its exit code and stdout (bounded).</summary>
    internal async Task<(int ExitCode, string Stdout)> RunScriptAsync(
        RunTarget target, IReadOnlyList<string> command, string operation, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(target, command, expectMarker: false, cancellationToken, operation: operation);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.SignalTimeout);
        var stdout = new System.Text.StringBuilder();
        try
        {
            await foreach (var chunk in connection.Output.ReadAllAsync(timeout.Token))
            {
                if (chunk.Stream == OutputStream.Stdout && stdout.Length < 1024 * 1024)
                {
                    stdout.Append(System.Text.Encoding.UTF8.GetString(chunk.Data.Span));
                }
            }

            var exitCode = await connection.Exited.WaitAsync(timeout.Token);
            if (exitCode == LostExitCode)
            {
                throw Unavailable("The Kubernetes API did not report how the exec ended.", projectProblem: false);
            }

            return (exitCode, stdout.ToString());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable("The exec did not finish in time.", projectProblem: false);
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the process group <paramref name="handle"/> in the target's pod, also when
    /// the <see cref="IRunningProcess"/> that started it is gone (another replica, a restart). A group that has
    /// already ended is not an error.
    /// </summary>
    public Task SignalAsync(RunTarget target, string handle, ProcessSignal signal, CancellationToken cancellationToken) =>
        ExecWrapper.TryParseHandle(handle, out var processGroup)
            ? SignalAsync(target, processGroup, signal, cancellationToken)
            : throw new ArgumentException("The handle is not a process group id.", nameof(handle));

    internal async Task SignalAsync(RunTarget target, long processGroup, ProcessSignal signal, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(target, ExecWrapper.SignalCommand(signal, processGroup), expectMarker: false, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.SignalTimeout);
        int exitCode;
        try
        {
            // kill writes at most an error line; drain it so the status can arrive.
            await foreach (var _ in connection.Output.ReadAllAsync(timeout.Token))
            {
            }
            exitCode = await connection.Exited.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            exitCode = LostExitCode;
        }
        if (exitCode == LostExitCode)
        {
            throw Unavailable("The signal may not have reached the command.", projectProblem: false);
        }
        // kill's status is 1 when no process is left in the group.
        LogSignalled(logger, signal, processGroup, target.Pod, exitCode);
    }

    /// <summary>
    /// Opens an exec of <paramref name="command"/> exactly as given (no wrapper, no process group), through the same
    /// circuit and failure classification as commands, with stdin when asked. For short operations such as the
    /// workspace file scripts of the Claude Code configuration.
    /// </summary>
    /// <exception cref="RuntimeUnavailableException">The exec could not be opened (see <see cref="RuntimeUnavailableException.Blame"/>).</exception>
    internal Task<ExecConnection> ExecAsync(
        RunTarget target, IReadOnlyList<string> command, bool stdin, string operation, CancellationToken cancellationToken) =>
        ConnectAsync(target, command, expectMarker: false, cancellationToken, stdin, operation);

    private async Task<ExecConnection> ConnectAsync(
        RunTarget target, IReadOnlyList<string> command, bool expectMarker, CancellationToken cancellationToken,
        bool stdin = false, string? operation = null)
    {
        if (string.IsNullOrEmpty(target.Pod))
        {
            throw new ArgumentException("A Kubernetes run target names a pod.", nameof(target));
        }
        var settings = options.Value;
        var ns = target.Namespace ?? defaultNamespace.Name;
        using var activity = Activities.StartActivity(operation ?? (expectMarker ? "kubernetes exec" : "kubernetes signal"), ActivityKind.Client);
        activity?.SetTag("project", target.Project);
        activity?.SetTag("k8s.namespace.name", ns);
        activity?.SetTag("k8s.pod.name", target.Pod);
        try
        {
            var socket = await circuit.ExecuteAsync(async token =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(settings.ConnectTimeout);
                try
                {
                    return await client.WebSocketNamespacedPodExecAsync(target.Pod, ns, command, target.Container,
                        stderr: true, stdin: stdin, stdout: true, tty: false,
                        // IKubernetes declares no default protocol; without v4 the API server falls back to the
                        // pre-v4 protocol, whose error channel carries text instead of the Status with the exit code.
                        webSocketSubProtocol: WebSocketProtocol.V4BinaryWebsocketProtocol, cancellationToken: timeout.Token);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    throw new TimeoutException("The exec request timed out.");
                }
            }, cancellationToken);
            return new ExecConnection(socket, expectMarker, $"project {target.Project} pod {target.Pod}", logger);
        }
        catch (BrokenCircuitException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "circuit open");
            throw Unavailable("The Kubernetes API is unavailable (circuit open).", projectProblem: false, e);
        }
        catch (Exception e) when (ExecFailure.Classify(e) is { } failure)
        {
            activity?.SetStatus(ActivityStatusCode.Error, failure.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? e.GetType().Name);
            // A pod problem is an answer worth a line; an outage deserves the whole exception for operators.
            LogExecFailed(logger, failure.ProjectProblem ? LogLevel.Information : LogLevel.Warning, failure.ProjectProblem ? null : e,
                target.Pod, target.Project, failure.Message, failure.StatusCode);
            throw Unavailable(failure.Message, failure.ProjectProblem, e);
        }
    }

    private static RuntimeUnavailableException Unavailable(string message, bool projectProblem, Exception? inner = null) =>
        new(message, projectProblem ? RuntimeBlame.Project : RuntimeBlame.Runtime, inner);

    [LoggerMessage(LogLevel.Warning, "Command for project {Project} did not start in pod {Pod}: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, string project, string? pod, string reason);

    [LoggerMessage(LogLevel.Debug, "Started process group {ProcessGroup} in pod {Pod} for project {Project}")]
    private static partial void LogStarted(ILogger logger, long processGroup, string? pod, string project);

    [LoggerMessage(LogLevel.Debug, "Signal {Signal} to process group {ProcessGroup} in pod {Pod}: kill exited with {ExitCode}")]
    private static partial void LogSignalled(ILogger logger, ProcessSignal signal, long processGroup, string? pod, int exitCode);

    [LoggerMessage("Exec in pod {Pod} for project {Project} failed: {Failure} (status {StatusCode})")]
    private static partial void LogExecFailed(ILogger logger, LogLevel level, Exception? exception, string? pod, string project, string failure, int? statusCode);
}
