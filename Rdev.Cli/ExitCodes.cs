namespace Rdev.Cli;

/// <summary>
/// rdev's own exit codes (docs/cli.md). A streaming command (git, shell, claude, logs --follow) otherwise exits with
/// its command's code; the codes of rdev's own failures are chosen to be rare as program exit codes.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command failed without an exit code (it could not start), or its process was lost.</summary>
    public const int Failed = 1;

    /// <summary>The command was stopped by its timeout_seconds (as timeout(1) does).</summary>
    public const int TimedOut = 124;

    /// <summary>The command was cancelled (as a shell reports a command ended by Ctrl+C).</summary>
    public const int Cancelled = 130;

    /// <summary>Bad arguments: System.CommandLine has printed what is wrong.</summary>
    public const int Usage = 64;

    /// <summary>The API answered with a problem (401, 403, 404, 409, 429, ...): one line on stderr names its code.</summary>
    public const int Problem = 65;

    /// <summary>A bug of rdev's own (one line on stderr; RDEV_DEBUG=1 adds the stack trace).</summary>
    public const int Internal = 70;

    /// <summary>The API could not be reached, or stopped answering while a command was followed.</summary>
    public const int Unreachable = 69;

    /// <summary>A streaming command was detached by a signal (Ctrl+C without a terminal, SIGTERM): it keeps running.</summary>
    public const int Detached = 75;

    /// <summary>No URL or key: neither rdev login nor RDEV_URL and RDEV_API_KEY.</summary>
    public const int NotConfigured = 78;
}

/// <summary>An expected failure of rdev itself: its message is printed as one line and the process exits with the code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
