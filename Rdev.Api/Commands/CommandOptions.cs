using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Commands;

/// <summary><c>Rdev:Commands</c>: bounds on every command (SPEC section 5) and how rdev runs them.</summary>
public sealed class CommandOptions
{
    public const string SectionName = "Rdev:Commands";

    [Range(1, 604800)]
    public int DefaultTimeoutSeconds { get; set; } = 1800;

    [Range(1, 604800)]
    public int MaxTimeoutSeconds { get; set; } = 14400;

    [Range(1, long.MaxValue)]
    public long MaxOutputBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Between SIGTERM and SIGKILL when a command is cancelled or times out.</summary>
    [Range(0, 300)]
    public double CancelGraceSeconds { get; set; } = 10;

    /// <summary>The Claude Code program; a name looked up on the workspace's PATH, or a path.</summary>
    [Required]
    public string ClaudeCommand { get; set; } = "claude";

    /// <summary>A replica that has not sent a heartbeat for this long is dead: a live replica takes its commands over.</summary>
    [Range(1, 3600)]
    public double RunnerTimeoutSeconds { get; set; } = 15;

    [Range(0.1, 600)]
    public double HeartbeatSeconds { get; set; } = 5;

    /// <summary>
    /// How long a running command's output may go unstored (the database unreachable) before rdev stops the command
    /// as <c>failed</c>. The writes themselves, and the final status, are retried for as long as the replica runs.
    /// </summary>
    [Range(1, 86400)]
    public double WriteGiveUpSeconds { get; set; } = 60;

    /// <summary>How often a replica removes run folders that finished commands left behind.</summary>
    [Range(0.1, 86400)]
    public double SweepSeconds { get; set; } = 60;
}
