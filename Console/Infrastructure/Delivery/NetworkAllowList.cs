using System.Net;
using System.Net.Sockets;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>
/// Which addresses a webhook may reach. Public unicast addresses always; loopback, private,
/// link-local, CGNAT, multicast, unspecified and cloud metadata addresses only when an
/// explicitly configured network contains them. IPv6 addresses that carry an IPv4 address
/// (IPv4-mapped and -compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address they carry,
/// so <c>[::7f00:1]</c> or <c>[2002:7f00:1::]</c> cannot smuggle loopback past the check.
/// </summary>
public sealed class NetworkAllowList(IReadOnlyList<IPNetwork> allowed)
{
    public static readonly NetworkAllowList None = new([]);

    private static readonly IPNetwork Ipv4Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Nat64Local = IPNetwork.Parse("64:ff9b:1::/48");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Teredo = IPNetwork.Parse("2001::/32");
    private static readonly IPNetwork UniqueLocal = IPNetwork.Parse("fc00::/7");
    private static readonly IPNetwork Documentation6 = IPNetwork.Parse("2001:db8::/32");
    private static readonly IPNetwork Discard6 = IPNetwork.Parse("100::/64");

    private static readonly (IPNetwork Network, string Reason)[] NonPublicIpv4 =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "carrier-grade NAT"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.169.254/32"), "cloud metadata"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
    ];

    /// <summary>Parses networks given as CIDRs or single addresses, e.g. <c>127.0.0.1/32</c>, <c>10.1.0.0/16</c>, <c>::1</c>.</summary>
    public static bool TryParse(IEnumerable<string> entries, out NetworkAllowList list, out string error)
    {
        var networks = new List<IPNetwork>();
        error = "";
        foreach (var part in entries.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (IPAddress.TryParse(part, out var single) && !part.Contains('/'))
            {
                networks.Add(new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
                continue;
            }

            if (!IPNetwork.TryParse(part, out var network))
            {
                list = None;
                error = $"Delivery:AllowedPrivateNetworks: '{part}' is not an IP address or a CIDR with its host bits clear (e.g. 10.1.0.0/16).";
                return false;
            }

            networks.Add(network);
        }

        list = new NetworkAllowList(networks);
        return true;
    }

    public static bool TryParse(string? text, out NetworkAllowList list, out string error) => TryParse([text ?? ""], out list, out error);

    /// <summary>Null when the address may be reached; otherwise why not.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var reason = Classify(address);
        if (reason is null || IsAllowed(address))
        {
            return null;
        }

        return reason;
    }

    private bool IsAllowed(IPAddress address) =>
        allowed.Any(n => n.Contains(address)) || EmbeddedIpv4(address).Any(embedded => allowed.Any(n => n.Contains(embedded.Address)));

    /// <summary>Why an address is not public, or null when it is.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return NonPublicIpv4.FirstOrDefault(n => n.Network.Contains(address)).Reason;
        }

        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return "unspecified";
        }

        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }

        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
        {
            return "link-local";
        }

        if (address.IsIPv6Multicast)
        {
            return "multicast";
        }

        // fd00:ec2::254, AWS's IPv6 metadata endpoint, is inside fc00::/7.
        if (UniqueLocal.Contains(address))
        {
            return "private";
        }

        if (Documentation6.Contains(address) || Discard6.Contains(address))
        {
            return "reserved";
        }

        foreach (var (form, carried) in EmbeddedIpv4(address))
        {
            if (Classify(carried) is { } reason)
            {
                return $"{form} address carrying {carried} ({reason})";
            }
        }

        return null;
    }

    /// <summary>The IPv4 addresses an IPv6 address carries, by the transition mechanism that embeds them.</summary>
    private static IEnumerable<(string Form, IPAddress Address)> EmbeddedIpv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            yield break;
        }

        var b = address.GetAddressBytes();
        if (Ipv4Compatible.Contains(address))
        {
            yield return ("IPv4-compatible", new IPAddress(b[12..16]));
        }
        else if (Nat64.Contains(address))
        {
            yield return ("NAT64", new IPAddress(b[12..16]));
        }
        else if (Nat64Local.Contains(address))
        {
            // RFC 6052 with a /48 prefix: bits 48-63 and, after the zero u-octet, 72-87.
            yield return ("NAT64", new IPAddress([b[6], b[7], b[9], b[10]]));
        }
        else if (SixToFour.Contains(address))
        {
            yield return ("6to4", new IPAddress(b[2..6]));
        }
        else if (Teredo.Contains(address))
        {
            yield return ("Teredo server", new IPAddress(b[4..8]));
            yield return ("Teredo", new IPAddress(b[12..16].Select(x => (byte)~x).ToArray()));
        }
    }
}
