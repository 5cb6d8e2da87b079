namespace Rdev.Api.Execution;

/// <summary>Who is to blame when the runtime cannot do what was asked; it decides the answer a client gets.</summary>
public enum RuntimeBlame
{
    /// <summary>The project: pod missing or not running, workspace missing or not writable (409 PROJECT_UNAVAILABLE).</summary>
    Project,

    /// <summary>The runtime itself: the Kubernetes API unreachable or refusing, circuit open, connection lost (503).</summary>
    Runtime,
}

/// <summary>
/// The runtime could not start a command or reach a workspace: pod gone, exec refused, folder missing, circuit open.
/// The message is safe to show (no URL, namespace or server text); <see cref="Blame"/> says whose fault it is.
/// </summary>
public sealed class RuntimeUnavailableException(string message, RuntimeBlame blame, Exception? inner = null) : Exception(message, inner)
{
    public RuntimeBlame Blame { get; } = blame;
}
