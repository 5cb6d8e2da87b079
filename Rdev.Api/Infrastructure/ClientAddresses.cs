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
    public static IServiceCollection AddClientAddresses(this IServiceCollection services, IConfiguration configuration)
    {
        // A list (Rdev__TrustedProxies__0=...) or one comma-separated value (Rdev__TrustedProxies=a,b).
        var section = configuration.GetSection($"{RdevOptions.SectionName}:{nameof(RdevOptions.TrustedProxies)}");
        var trusted = section.Value is { } single
            ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : section.Get<string[]>() ?? [];
        var networks = trusted.Select(ParseTrustedProxy).ToList();
        return services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // The defaults trust loopback; rdev trusts nothing it was not told to.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }

            options.ForwardLimit = null;
        });
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
