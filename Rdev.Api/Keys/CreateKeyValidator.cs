using System.Globalization;
using System.Net;
using FluentValidation;

namespace Rdev.Api.Keys;

public sealed partial class CreateKeyValidator : AbstractValidator<CreateKeyRequest>
{
    public const int MaxProjects = 100;
    public const int MaxAllowedIps = 32;
    public const string NamePattern = "^[a-zA-Z0-9 ._-]{1,64}$";
    public const string ProjectPattern = ProjectNames.Pattern;

    public CreateKeyValidator(TimeProvider time)
    {
        RuleFor(r => r.Name)
            .NotEmpty().WithMessage("name is required.")
            .Matches(NamePattern).WithMessage("name must be 1-64 characters: letters, digits, space, '.', '_' or '-'.");

        RuleFor(r => r.Scopes)
            .NotEmpty().WithMessage("scopes must list at least one scope.")
            .Must(s => s is null || s.Length <= Keys.Scopes.All.Count)
            .WithMessage($"scopes may list at most {Keys.Scopes.All.Count} scopes.");
        RuleForEach(r => r.Scopes)
            .Must(scope => scope is not null && Keys.Scopes.All.Contains(scope))
            .WithMessage($"Unknown scope. Valid scopes: {string.Join(", ", Keys.Scopes.All)}.");

        RuleFor(r => r.Projects)
            .Must(p => p is null || p.Length <= MaxProjects).WithMessage($"projects may list at most {MaxProjects} projects.");
        RuleForEach(r => r.Projects)
            .Matches(ProjectPattern).WithMessage("Not a valid project name (lower-case letters, digits and '-', at most 63).")
            .When(r => r.Projects is null || r.Projects.Length <= MaxProjects);

        RuleFor(r => r.AllowedIps)
            .Must(ips => ips is null || ips.Length <= MaxAllowedIps)
            .WithMessage($"allowed_ips may list at most {MaxAllowedIps} networks.");
        RuleForEach(r => r.AllowedIps)
            .Cascade(CascadeMode.Stop)
            .Must(ip => !IsIPv4Mapped(ip))
            .WithMessage("IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) never match: client addresses are compared as IPv4, so write the IPv4 form (e.g. 192.0.2.1 or 192.0.2.0/24).")
            .Must(ip => TryParseNetwork(ip, out _))
            .WithMessage("Not a valid IP address or CIDR network (host bits must be zero, e.g. 10.0.0.0/8 or 2001:db8::/32).")
            .When(r => r.AllowedIps is null || r.AllowedIps.Length <= MaxAllowedIps);

        RuleFor(r => r.ExpiresAt)
            .Must(at => at is null || at > time.GetUtcNow()).WithMessage("expires_at must be in the future.");
    }

    /// <summary>A CIDR network, or a single address (stored as /32 or /128).</summary>
    public static bool TryParseNetwork(string? value, out IPNetwork network)
    {
        network = default;
        // IPAddress.Parse also takes legacy forms such as "10" or "10.1", and zone ids; neither is meant here.
        if (string.IsNullOrWhiteSpace(value) || value.Length > 64 || value.Contains('%')
            || (!value.Contains(':') && !DottedQuad().IsMatch(value)))
        {
            return false;
        }

        var slash = value.IndexOf('/');
        if (!IPAddress.TryParse(slash < 0 ? value : value[..slash], out var address))
        {
            return false;
        }

        // Client addresses are normalised to IPv4, so a ::ffff: network could never match anything.
        if (address.IsIPv4MappedToIPv6)
        {
            return false;
        }

        var maxPrefix = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0 && (!int.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix))
        {
            return false;
        }

        // .NET would silently clear host bits; like Postgres's cidr, treat 10.0.0.1/8 as the mistake it usually is.
        network = new IPNetwork(address, prefix);
        return network.BaseAddress.Equals(address);
    }

    /// <summary>Whether <paramref name="value"/> is (or starts with) an IPv4-mapped IPv6 address, with or without a prefix.</summary>
    public static bool IsIPv4Mapped(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64 || !value.Contains(':'))
        {
            return false;
        }

        var slash = value.IndexOf('/');
        return IPAddress.TryParse(slash < 0 ? value : value[..slash], out var address) && address.IsIPv4MappedToIPv6;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")]
    private static partial System.Text.RegularExpressions.Regex DottedQuad();
}
