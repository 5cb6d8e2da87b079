namespace Rdev.Cli.Configuration;

/// <summary>The API to talk to and the key to send: the saved login, with RDEV_URL and RDEV_API_KEY over it.</summary>
public sealed record Login(Uri Url, string Key)
{
    public const string UrlVariable = "RDEV_URL";
    public const string KeyVariable = "RDEV_API_KEY";

    public static Login Resolve()
    {
        var saved = ConfigFile.Read();
        var url = Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } envUrl ? envUrl : saved?.Url;
        var key = Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } envKey ? envKey : saved?.Key;
        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(key))
        {
            throw new CliException(ExitCodes.NotConfigured,
                $"not logged in: run 'rdev login --url URL --key KEY' (or set {UrlVariable} and {KeyVariable})");
        }

        return new Login(ParseUrl(url), key);
    }

    /// <summary>An absolute http(s) URL; a trailing path (a reverse proxy's prefix) is kept.</summary>
    public static Uri ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http or https URL");
        }

        return uri;
    }

    /// <summary>The key's id (<c>rdev_&lt;id&gt;_&lt;secret&gt;</c>), which is not secret and may be shown.</summary>
    public static string? KeyId(string key)
    {
        var parts = key.Split('_');
        return parts.Length == 3 && parts[0] == "rdev" && parts[1].Length > 0 && parts[2].Length > 0 ? parts[1] : null;
    }
}
