namespace Rdev.Cli.Streaming;

/// <summary>The exit code rdev gives each final status of a command.</summary>
public static class ExitCodeOf
{
    /// <summary>The command's own exit code when it has one, else 130 cancelled, 124 timed out, 1 otherwise.</summary>
    public static int Status(string status, int? exitCode) => status switch
    {
        "cancelled" => ExitCodes.Cancelled,
        "timed_out" => ExitCodes.TimedOut,
        "succeeded" => exitCode ?? ExitCodes.Success,
        _ => exitCode is { } code and not 0 ? code : ExitCodes.Failed,
    };
}
