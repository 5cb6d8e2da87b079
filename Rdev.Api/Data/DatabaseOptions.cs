using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Data;

/// <summary><c>Rdev:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Rdev:Database";

    /// <summary>
    /// Connections this replica may hold open to PostgreSQL, the LISTEN connection included; it overrides
    /// <c>Maximum Pool Size</c> in the connection string. Requests beyond it wait for a free connection (up to the
    /// connection string's <c>Timeout</c>, 15 s by default) instead of opening more. Size it so that API replicas ×
    /// this + discovery's stays under PostgreSQL's <c>max_connections</c> (100 by default), rollout surge included.
    /// </summary>
    [Range(2, 1000)]
    public int MaxPoolSize { get; set; } = 20;
}
