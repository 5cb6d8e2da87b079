namespace Rdev.AppHost;

/// <summary>
/// What a newcomer needs once the api is ready, printed by the AppHost itself (it knows the api's URL and the
/// bootstrap key): the URL, the API reference and a ready <c>rdev login</c> line. The key is a secret, so it is written
/// only to a terminal, straight to the console (never through a logger, whose output may be kept or exported).
/// </summary>
internal static class Welcome
{
    public static IResourceBuilder<ProjectResource> PrintWelcomeWhenReady(
        this IResourceBuilder<ProjectResource> api, ReferenceExpression bootstrapAdminKey)
    {
        if (api.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return api;
        }

        return api.OnResourceReady(async (resource, _, cancellationToken) =>
        {
            var url = resource.GetEndpoint("http").Url.TrimEnd('/');
            var key = Console.IsOutputRedirected ? null : await bootstrapAdminKey.GetValueAsync(cancellationToken);
            Console.Out.Write(Text(url, key));
            await Console.Out.FlushAsync(cancellationToken);
        });
    }

    /// <summary>The web console's URL, once it is ready: a person signs in there with the same key.</summary>
    public static IResourceBuilder<ProjectResource> PrintConsoleUrlWhenReady(this IResourceBuilder<ProjectResource> console)
    {
        if (console.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            return console;
        }

        return console.OnResourceReady(async (resource, _, cancellationToken) =>
        {
            var url = resource.GetEndpoint("http").Url.TrimEnd('/');
            await Console.Out.WriteAsync($"""

                rdev's web console is ready: {url} (sign in with the key of the rdev login line; docs/console.md)

                """.AsMemory(), cancellationToken);
            await Console.Out.FlushAsync(cancellationToken);
        });
    }

    internal static string Text(string url, string? key)
    {
        var login = key is null
            ? $"""
                rdev login --url {url} --key rdev_bootstrap_<secret>
                    (the secret: 'dotnet user-secrets list --project Rdev.AppHost', Parameters:bootstrap-admin-secret,
                     or the api resource's Rdev__BootstrapAdminKey in the dashboard)
              """
            : $"  rdev login --url {url} --key {key}";
        return $"""

            rdev is ready.
              API:           {url}
              API reference: {url}/docs
              Log in with the CLI (install it once with scripts/install-cli.sh, see docs/cli.md):
            {login}
              then try:      rdev projects; rdev git hello log --oneline

            """;
    }
}
