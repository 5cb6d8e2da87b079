using System.ComponentModel.DataAnnotations;

namespace Rdev.Api.Keys;

/// <summary>The <c>Rdev:Keys</c> configuration section.</summary>
public sealed class KeyOptions
{
    public const string SectionName = "Rdev:Keys";

    /// <summary>
    /// How long a verified key is trusted from memory before it is read again. Revocation reaches other replicas by
    /// NOTIFY at once; this bound is what holds if notifications stop. Above 1 s, revocation may take that long.
    /// </summary>
    [Range(0, 3600)]
    public double CacheSeconds { get; set; } = 1;
}
