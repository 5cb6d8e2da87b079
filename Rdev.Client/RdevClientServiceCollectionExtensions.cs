using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Rdev.Client;

/// <summary>Where the API is and, for an app with one identity, its key.</summary>
public sealed class RdevClientOptions
{
    /// <summary>The API's URL, e.g. <c>https://rdev.example.com/</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The key of the <see cref="RdevClient"/> resolved from the container; null when each user brings theirs.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>Makes <see cref="RdevClient"/>s over <see cref="IHttpClientFactory"/>'s pooled handlers.</summary>
public interface IRdevClientFactory
{
    /// <summary>A client that acts with <paramref name="apiKey"/>, e.g. the signed-in user's own key.</summary>
    RdevClient Create(string apiKey);
}

public static class RdevClientServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the clients use.</summary>
    public const string HttpClientName = "rdev";

    /// <summary>
    /// Registers <see cref="IRdevClientFactory"/> (a client per key, for apps whose users sign in with their own keys)
    /// and, when <see cref="RdevClientOptions.ApiKey"/> is set, a transient <see cref="RdevClient"/> with that key.
    /// Returns the named <see cref="HttpClient"/>'s builder, to add handlers (e.g. <c>AddStandardResilienceHandler</c>
    /// for plain requests; the stream readers resume by themselves).
    /// </summary>
    public static IHttpClientBuilder AddRdevClient(this IServiceCollection services, Action<RdevClientOptions> configure)
    {
        services.AddOptions<RdevClientOptions>().Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "Set RdevClientOptions.BaseAddress to the rdev API's absolute URL.");
        services.AddTransient<IRdevClientFactory, RdevClientFactory>();
        services.AddTransient(provider =>
        {
            var key = provider.GetRequiredService<IOptions<RdevClientOptions>>().Value.ApiKey
                ?? throw new InvalidOperationException("RdevClientOptions.ApiKey is not set: create clients with IRdevClientFactory.Create(key).");
            return provider.GetRequiredService<IRdevClientFactory>().Create(key);
        });
        return services.AddHttpClient(HttpClientName, (provider, http) =>
            http.BaseAddress = provider.GetRequiredService<IOptions<RdevClientOptions>>().Value.BaseAddress);
    }

    private sealed class RdevClientFactory(IHttpClientFactory factory) : IRdevClientFactory
    {
        public RdevClient Create(string apiKey) => new(factory.CreateClient(HttpClientName), apiKey);
    }
}
