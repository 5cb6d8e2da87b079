using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Rdev.Client;

// RemoveAllResilienceHandlers is marked experimental; it is the documented way to replace the defaults' handler.
#pragma warning disable EXTEXP0001

namespace Rdev.Console.Api;

public static class ApiClients
{
    /// <summary>Server-Sent Events: open for hours, so no total timeout and no hedging; Rdev.Client's reader resumes them.</summary>
    public const string Streams = "rdev-stream";

    /// <summary>
    /// Rdev.Client over IHttpClientFactory, one <see cref="RdevClient"/> per signed-in key. Requests and answers get
    /// the standard resilience handler, retrying only what is safe to repeat; the Kiota headers inspection handler
    /// lets the Claude config editor read ETags. Streams get a client of their own without the resilience handler,
    /// whose 30 s total timeout (from ServiceDefaults, on every client) would cut them.
    /// </summary>
    public static void AddApiClients(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRdevClient(options =>
                options.BaseAddress = new Uri(builder.Configuration[$"{ConsoleOptions.SectionName}:ApiUrl"] ?? new ConsoleOptions().ApiUrl))
            .RemoveAllResilienceHandlers()
            // A retried POST could start a second command or decide twice: only GET and friends are retried.
            .AddStandardResilienceHandler(options => options.Retry.DisableForUnsafeHttpMethods())
            .Services.AddHttpClient(RdevClientServiceCollectionExtensions.HttpClientName)
            .AddHttpMessageHandler(() => new HeadersInspectionHandler());

        builder.Services.AddHttpClient(Streams, (services, client) =>
        {
            client.BaseAddress = new Uri(services.GetRequiredService<IOptions<ConsoleOptions>>().Value.ApiUrl);
            client.Timeout = Timeout.InfiniteTimeSpan;
        }).RemoveAllResilienceHandlers();
    }
}
