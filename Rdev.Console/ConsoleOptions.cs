using System.ComponentModel.DataAnnotations;

namespace Rdev.Console;

public sealed class ConsoleOptions
{
    public const string SectionName = "Console";

    /// <summary>The API's base address; <c>https+http://api</c> resolves through Aspire service discovery.</summary>
    [Required]
    public string ApiUrl { get; set; } = "https+http://api";
}
