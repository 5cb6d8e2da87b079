using Rdev.Client;

namespace Rdev.Cli.Configuration;

/// <summary>The <see cref="RdevClient"/> of the resolved login (<see cref="Login.Resolve"/>).</summary>
public static class Connection
{
    public static RdevClient Open()
    {
        var login = Login.Resolve();
        Failures.ApiUrl = login.Url;
        // A path prefix (a reverse proxy's) is kept: the client appends api/v1/... to the base address.
        var http = new HttpClient { BaseAddress = new Uri(login.Url.ToString().TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
        return new RdevClient(http, login.Key)
        {
            // Quiet when stderr is a file: the command's own stderr goes there too.
            OnReconnect = Console.IsErrorRedirected ? null : r =>
                Console.Error.WriteLine($"[connection lost ({r.Reason.Message}); reconnecting in {r.Delay.TotalSeconds:0.#} s, attempt {r.Attempt}]"),
        };
    }
}
