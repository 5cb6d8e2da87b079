using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

// RemoveAllResilienceHandlers is marked experimental; it is the documented way to replace the defaults' handler.
#pragma warning disable EXTEXP0001

namespace Rdev.Console.Api;

public static class ApiClients
{
    /// <summary>Requests and answers: the standard resilience handler, retrying only what is safe to repeat.</summary>
    public const string Calls = "rdev-api";

    /// <summary>Server-Sent Events: open for hours, so no total timeout and no hedging; the reader reconnects itself.</summary>
    public const string Streams = "rdev-api-stream";

    public static void AddApiClients(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(Calls, Configure)
            .RemoveAllResilienceHandlers()
            // A retried POST could start a second command or decide twice: only GET and friends are retried.
            .AddStandardResilienceHandler(options => options.Retry.DisableForUnsafeHttpMethods());

        // ServiceDefaults puts the standard handler on every client; its 30 s total timeout would cut a stream.
        builder.Services.AddHttpClient(Streams, (services, client) =>
        {
            Configure(services, client);
            client.Timeout = Timeout.InfiniteTimeSpan;
        }).RemoveAllResilienceHandlers();
    }

    private static void Configure(IServiceProvider services, HttpClient client) =>
        client.BaseAddress = new Uri(services.GetRequiredService<IOptions<ConsoleOptions>>().Value.ApiUrl);
}
