using System.CommandLine;
using Rdev.Cli.Configuration;

namespace Rdev.Cli.Commands;

/// <summary><c>rdev login --url URL --key KEY</c>: saves both for later commands; the key is never printed.</summary>
public static class LoginCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "the API's URL, e.g. http://localhost:5080", Required = true };
        var key = new Option<string>("--key")
        {
            Description = "the API key (rdev_<id>_<secret>); '-' reads it from stdin, which keeps it out of shell history",
            Required = true,
        };
        var command = new Command("login", "Save the API's URL and a key in ~/.config/rdev/config.json (mode 0600)") { url, key };
        command.SetAction(Actions.Guarded((parse, _) =>
        {
            var uri = Login.ParseUrl(parse.GetRequiredValue(url));
            var secret = parse.GetRequiredValue(key);
            if (secret == "-")
            {
                secret = Console.In.ReadLine()?.Trim() ?? "";
            }

            var keyId = Login.KeyId(secret)
                ?? throw new CliException(ExitCodes.Usage, "the key is not of the form rdev_<id>_<secret>");
            var path = ConfigFile.Save(new SavedLogin(uri.ToString().TrimEnd('/'), secret));
            Console.WriteLine($"Saved {path}: {uri.ToString().TrimEnd('/')} with key {keyId}.");
            if (Environment.GetEnvironmentVariable(Login.UrlVariable) is { Length: > 0 } ||
                Environment.GetEnvironmentVariable(Login.KeyVariable) is { Length: > 0 })
            {
                Actions.Warn($"{Login.UrlVariable} or {Login.KeyVariable} is set and overrides the saved login");
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }
}
