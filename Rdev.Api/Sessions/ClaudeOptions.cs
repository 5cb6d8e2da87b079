using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Sessions;

/// <summary><c>Rdev:Claude</c>: how rdev drives Claude sessions (SPEC section 7a).</summary>
public sealed class ClaudeOptions
{
    public const string SectionName = "Rdev:Claude";

    /// <summary>An undecided tool-permission request is denied (and marked <c>expired</c>) after this long.</summary>
    [Range(1, 604800)]
    public int ApprovalTimeoutSeconds { get; set; } = 3600;

    /// <summary>How long a <c>keep_open</c> session waits for a message when the request gives no idle timeout.</summary>
    [Range(1, 86400)]
    public int DefaultIdleTimeoutSeconds { get; set; } = 600;

    /// <summary>
    /// How often a session re-reads its approvals and messages from Postgres while it waits, in case a notification
    /// was lost (NOTIFY is not delivered while the listening connection reconnects).
    /// </summary>
    [Range(0.1, 3600)]
    public double ResyncSeconds { get; set; } = 5;

    /// <summary>
    /// Extra environment variables for the Claude CLI on the local runtime, e.g. <c>ANTHROPIC_API_KEY</c> or
    /// <c>ANTHROPIC_BASE_URL</c> (rdev passes none of its own environment to commands). Values are secrets: never
    /// logged. On the kubernetes runtime the pod's own environment applies instead.
    /// </summary>
    public Dictionary<string, string> Environment { get; set; } = [];
}
