using System.ComponentModel.DataAnnotations;

namespace Rdev.Console;

public sealed class ConsoleOptions
{
    public const string SectionName = "Console";

    /// <summary>The API's base address; <c>https+http://api</c> resolves through Aspire service discovery.</summary>
    [Required]
    public string ApiUrl { get; set; } = "https+http://api";

    /// <summary>The path the console is served under behind a proxy (<c>/console</c> in the Kubernetes overlay); empty: the root.</summary>
    [RegularExpression("^(/[A-Za-z0-9._~-]+)*$", ErrorMessage = "Console:PathBase must be empty or a path such as /console.")]
    public string PathBase { get; set; } = "";
}
