using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Rdev.Discovery.Projects;

/// <summary>
/// Settings from a ConfigMap entry <c>&lt;name&gt;.yaml</c> or a local <c>.rdev.yaml</c>. Null means "not given":
/// the pod's annotations or the defaults apply.
/// </summary>
public sealed record ProjectSettings(
    string? Description,
    string? PodSelector,
    string? Workspace,
    IReadOnlyList<string>? AllowedCommands,
    int? MaxConcurrentCommands)
{
    public static readonly IReadOnlyList<string> DefaultAllowedCommands = CommandKinds.Default;
    public const int DefaultMaxConcurrentCommands = 5;
    public const int MaxConcurrentCommandsLimit = 100;
    public static readonly ProjectSettings None = new(null, null, null, null, null);

    // Unknown fields are errors, so a typo such as "allowed_command" is reported instead of silently ignored.
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Parses and checks one settings document; <paramref name="error"/> says what is wrong when it returns false.</summary>
    public static bool TryParse(string yaml, string expectedName, out ProjectSettings settings, out string error)
    {
        settings = None;
        Document? document;
        try
        {
            document = Yaml.Deserialize<Document?>(yaml);
        }
        catch (YamlException ex)
        {
            error = $"invalid YAML at line {ex.Start.Line}: {Innermost(ex).Message}";
            return false;
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            // The ConfigMap is written by people: whatever it holds must end as a skipped entry, never a stuck watch.
            error = $"invalid entry: {ex.Message}";
            return false;
        }

        document ??= new Document();
        var problems = new List<string>();
        if (document.Name is not null && document.Name != expectedName)
        {
            problems.Add($"name '{document.Name}' differs from the entry's name '{expectedName}'");
        }
        if (document.Workspace is not null && !document.Workspace.StartsWith('/'))
        {
            problems.Add("workspace must be an absolute path");
        }
        if (document.AllowedCommands?.FirstOrDefault(c => !CommandKinds.All.Contains(c)) is { } unknown)
        {
            problems.Add($"allowed_commands: '{unknown}' is not one of {string.Join(", ", CommandKinds.All)}");
        }
        if (document.MaxConcurrentCommands is < 1 or > MaxConcurrentCommandsLimit)
        {
            problems.Add($"max_concurrent_commands must be between 1 and {MaxConcurrentCommandsLimit}");
        }
        if (document.PodSelector is { Length: 0 })
        {
            problems.Add("pod_selector is empty");
        }

        error = string.Join("; ", problems);
        if (problems.Count > 0)
        {
            return false;
        }

        settings = new ProjectSettings(
            document.Description,
            document.PodSelector,
            document.Workspace,
            document.AllowedCommands?.Distinct().ToList(),
            document.MaxConcurrentCommands);
        return true;
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is null ? ex : Innermost(ex.InnerException);

    private sealed class Document
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public string? PodSelector { get; set; }

        public string? Workspace { get; set; }

        public List<string>? AllowedCommands { get; set; }

        public int? MaxConcurrentCommands { get; set; }
    }
}
