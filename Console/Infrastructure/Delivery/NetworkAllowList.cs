using System.Net;
using System.Net.Sockets;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>
/// Which addresses a webhook may reach. Public unicast addresses always; loopback, private,
/// link-local, CGNAT, multicast, unspecified and cloud metadata addresses only when an
/// explicitly configured network contains them.
/// </summary>
public sealed class NetworkAllowList(IReadOnlyList<(IPAddress Network, int Prefix)> allowed)
{
    public static readonly NetworkAllowList None = new([]);

    public static bool TryParse(string? text, out NetworkAllowList list, out string error)
    {
        var networks = new List<(IPAddress, int)>();
        error = "";
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var slash = part.IndexOf('/');
            var addressText = slash < 0 ? part : part[..slash];
            if (!IPAddress.TryParse(addressText, out var address))
            {
                list = None;
                error = $"Delivery:AllowedPrivateNetworks: '{part}' is not an IP address or CIDR.";
                return false;
            }

            var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var prefix = max;
            if (slash >= 0 && (!int.TryParse(part[(slash + 1)..], out prefix) || prefix < 0 || prefix > max))
            {
                list = None;
                error = $"Delivery:AllowedPrivateNetworks: '{part}' has a bad prefix length.";
                return false;
            }

            networks.Add((address, prefix));
        }

        list = new NetworkAllowList(networks);
        return true;
    }

    /// <summary>Null when the address may be reached; otherwise why not.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var reason = Classify(address);
        if (reason is null || allowed.Any(n => Contains(n.Network, n.Prefix, address)))
        {
            return null;
        }

        return reason;
    }

    /// <summary>Why an address is not public, or null when it is.</summary>
    public static string? Classify(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }

        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return (bytes[0], bytes[1]) switch
            {
                (0, _) => "unspecified",
                (10, _) => "private",
                (172, >= 16 and <= 31) => "private",
                (192, 168) => "private",
                (100, >= 64 and <= 127) => "carrier-grade NAT",
                (169, 254) when bytes[2] == 169 && bytes[3] == 254 => "cloud metadata",
                (169, 254) => "link-local",
                (192, 0) when bytes[2] == 0 => "IETF protocol assignments",
                (198, 18 or 19) => "benchmarking",
                ( >= 224 and <= 239, _) => "multicast",
                ( >= 240, _) => "reserved",
                _ => null,
            };
        }

        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return "unspecified";
        }

        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
        {
            return "link-local";
        }

        if (address.IsIPv6Multicast)
        {
            return "multicast";
        }

        if ((bytes[0] & 0xFE) == 0xFC)
        {
            return "private";
        }

        // fd00:ec2::254, AWS's IPv6 metadata endpoint, is inside fc00::/7 already.
        return null;
    }

    private static bool Contains(IPAddress network, int prefix, IPAddress address)
    {
        if (network.AddressFamily != address.AddressFamily)
        {
            return false;
        }

        var n = network.GetAddressBytes();
        var a = address.GetAddressBytes();
        var full = prefix / 8;
        for (var i = 0; i < full; i++)
        {
            if (n[i] != a[i])
            {
                return false;
            }
        }

        var rest = prefix % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - rest));
        return (n[full] & mask) == (a[full] & mask);
    }
}
