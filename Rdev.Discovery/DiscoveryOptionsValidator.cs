using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Rdev.Discovery.Projects;

namespace Rdev.Discovery;

/// <summary>
/// Checks the nested sections, which DataAnnotations validation does not descend into, and names the setting that is
/// wrong: a typo in the operator's policy must stop discovery at start-up, not silently fall back to the defaults.
/// </summary>
public sealed class DiscoveryOptionsValidator : IValidateOptions<DiscoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DiscoveryOptions options)
    {
        var failures = new List<string>();
        Check("Rdev:Local", options.Local, failures);
        Check("Rdev:Kubernetes", options.Kubernetes, failures);
        Check("Rdev:Local:Policy", options.Local.Policy, failures);
        foreach (var (project, pin) in options.Local.Projects)
        {
            if (!ProjectNames.IsValid(project))
            {
                failures.Add($"Rdev:Local:Projects:{project}: '{project}' is not a valid project name (lower-case DNS label).");
            }
            Check($"Rdev:Local:Projects:{project}", pin, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string section, object value, List<string> failures)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        failures.AddRange(results.Select(r => $"{section}: {r.ErrorMessage}"));
    }
}
