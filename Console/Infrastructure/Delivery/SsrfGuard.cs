using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>Thrown when a target resolves to an address webhooks may not reach.</summary>
public sealed class BlockedTargetException(string message) : Exception(message);

/// <summary>
/// Refuses private, loopback, link-local, CGNAT, multicast and metadata targets. It runs as the
/// HTTP handler's ConnectCallback, on the addresses actually connected to, so a hostname that
/// resolves differently at save time and at send time (DNS rebinding) cannot get through.
/// </summary>
public sealed class SsrfGuard(IOptionsMonitor<DeliveryOptions> options)
{
    private NetworkAllowList AllowList =>
        NetworkAllowList.TryParse(options.CurrentValue.AllowedPrivateNetworks, out var list, out _) ? list : NetworkAllowList.None;

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        ThrowIfBlocked(host, addresses);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The save-time check: null when the URL may be used, else why not. Hosts that do not resolve now are accepted (attempts will record it).</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancellationToken = default)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken);
            }
            catch (SocketException)
            {
                return null;
            }
        }

        try
        {
            ThrowIfBlocked(url.Host, addresses);
            return null;
        }
        catch (BlockedTargetException exception)
        {
            return exception.Message;
        }
    }

    private void ThrowIfBlocked(string host, IPAddress[] addresses)
    {
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var allowList = AllowList;
        foreach (var address in addresses)
        {
            if (allowList.Refusal(address) is { } reason)
            {
                throw new BlockedTargetException(
                    $"{host} resolves to {address} ({reason}); webhooks may not reach such addresses unless Delivery:AllowedPrivateNetworks lists them.");
            }
        }
    }
}
