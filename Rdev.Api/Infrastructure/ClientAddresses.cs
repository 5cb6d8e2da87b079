using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace Rdev.Api.Infrastructure;

/// <summary>
/// The client address is the connection's peer; <c>X-Forwarded-For</c> replaces it only when the peer is one of
/// <c>Rdev:TrustedProxies</c> (IPs or CIDRs). A chain of trusted proxies is unwound right to left and stops at the
/// first address that is not trusted, so a client cannot prepend a forged hop.
/// </summary>
public static class ClientAddresses
{
    /// <remarks>
    /// Configuration is read when the options are built, not at registration, so settings added by a host builder
    /// after <c>Program</c> runs (tests, for one) count too; <c>ValidateOnStart</c> still fails start-up on a typo.
    /// </remarks>
    public static IServiceCollection AddClientAddresses(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                // A list (Rdev__TrustedProxies__0=...) or one comma-separated value (Rdev__TrustedProxies=a,b).
                var section = configuration.GetSection($"{RdevOptions.SectionName}:{nameof(RdevOptions.TrustedProxies)}");
                var trusted = section.GetChildren().Any()
                    ? section.Get<string[]>() ?? []
                    : (section.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var networks = trusted.Select(ParseTrustedProxy).ToList();

                // With both lists empty the middleware would believe every peer, so no trusted proxy means no forwarding.
                options.ForwardedHeaders = networks.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor;
                // The defaults trust loopback; rdev trusts nothing it was not told to.
                options.KnownProxies.Clear();
                options.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds the loopback default and is still consulted.
                options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
                foreach (var network in networks)
                {
                    options.KnownIPNetworks.Add(network);
                }

                options.ForwardLimit = null;
            })
            .ValidateOnStart();
        return services;
    }

    private static IPNetwork ParseTrustedProxy(string value)
    {
        value = value.Trim();
        if (IPNetwork.TryParse(value, out var network))
        {
            return network;
        }

        if (IPAddress.TryParse(value, out var address))
        {
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }

        // Thrown at start-up, so a typo cannot silently trust nobody (or everybody).
        throw new InvalidOperationException($"Rdev:TrustedProxies: '{value}' is not an IP address or CIDR network.");
    }
}
