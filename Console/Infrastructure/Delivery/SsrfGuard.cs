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
/// The one exception is this console's own webhook inboxes: a request the sender has checked to be
/// an inbox URL (<see cref="OwnInbox"/>) connects to the socket this process listens on, nothing else.
/// </summary>
public sealed class SsrfGuard(IOptionsMonitor<DeliveryOptions> options, ConsoleAddress? self = null, ILogger<SsrfGuard>? logger = null)
{
    /// <summary>Set by <see cref="WebhookSender"/> on a request to one of this console's inbox URLs.</summary>
    public static readonly HttpRequestOptionsKey<bool> OwnInbox = new("DeliveryConsole.OwnInbox");

    private NetworkAllowList AllowList =>
        NetworkAllowList.TryParse(options.CurrentValue.AllowedPrivateNetworks, out var list, out _) ? list : NetworkAllowList.None;

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        IPAddress[] addresses;
        if (context.InitialRequestMessage.Options.TryGetValue(OwnInbox, out var ownInbox) && ownInbox
            && context.InitialRequestMessage.RequestUri is { } uri && self?.IsOwnInbox(uri) == true)
        {
            var own = self.ListeningEndPoint() ?? throw new BlockedTargetException($"{host} is this console's inbox address, but this process does not listen for HTTP.");
            addresses = [IPAddress.Parse(own.Host)];
            port = own.Port;
            logger?.LogDebug("Outbound connection to this console's own inbox at {Address}:{Port}", own.Host, own.Port);
        }
        else
        {
            addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken);
            ThrowIfBlocked(host, addresses);
            logger?.LogDebug("Outbound connection to {Host}:{Port} ({Addresses})", host, port, string.Join(", ", addresses.Select(a => a.ToString())));
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, cancellationToken);
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
        if (self?.IsOwnAuthority(url) == true)
        {
            return self.IsOwnInbox(url) ? null : OwnAddressRefusal(url);
        }

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

    /// <summary>Why a URL of this console that is not an inbox may not be a webhook target.</summary>
    public static string OwnAddressRefusal(Uri url) =>
        $"{url.GetLeftPart(UriPartial.Authority)} is this console's own address; webhooks may reach only its inboxes there ({ConsoleAddress.InboxPath}…).";

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
