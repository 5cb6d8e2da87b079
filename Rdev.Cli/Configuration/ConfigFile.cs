using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rdev.Cli.Configuration;

/// <summary>What <c>rdev login</c> saves: the API's URL and the key to send.</summary>
public sealed record SavedLogin(
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("key")] string? Key);

/// <summary>
/// <c>$XDG_CONFIG_HOME/rdev/config.json</c> (else <c>~/.config/rdev/config.json</c>). It holds an API key, so it is
/// created readable by its owner only and never widened afterwards.
/// </summary>
public static class ConfigFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = OwnerOnly | UnixFileMode.UserExecute;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Path
    {
        get
        {
            // The XDG base directory rule: a relative XDG_CONFIG_HOME is invalid and ignored.
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var root = !string.IsNullOrEmpty(xdg) && System.IO.Path.IsPathRooted(xdg)
                ? xdg
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return System.IO.Path.Combine(root, "rdev", "config.json");
        }
    }

    public static SavedLogin? Read()
    {
        var path = Path;
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SavedLogin>(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.NotConfigured, $"{path} is not valid JSON; run rdev login again");
        }
    }

    /// <summary>
    /// Writes a new file created with mode 0600 beside the old one and renames it over it, so the secret is never
    /// in a file that others may read, not even for a moment, and an old file's wider mode is not inherited.
    /// </summary>
    public static string Save(SavedLogin login)
    {
        var path = Path;
        var folder = System.IO.Path.GetDirectoryName(path)!;
        var temporary = System.IO.Path.Combine(folder, $".config.json.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (OperatingSystem.IsWindows())
        {
            // The user profile's ACL already keeps others out; Windows has no file modes.
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
            options.UnixCreateMode = OwnerOnly;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, login, Json);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return path;
    }
}
