using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>
/// This console's own addresses, for the one kind of loopback target webhooks may reach: the
/// console's webhook inboxes (<c>/inbox/{token}</c>). "Own" means the authority of
/// <see cref="DeliveryOptions.PublicBaseUrl"/> or one Kestrel listens on. A request to an own
/// authority must be an inbox URL, and its connection goes to the socket this process listens on,
/// whatever port the URL names, so an inbox URL never reaches another program on the machine.
/// </summary>
public sealed class ConsoleAddress(IOptionsMonitor<DeliveryOptions> options, IServer? server = null)
{
    public const string InboxPath = "/inbox/";

    /// <summary>The public base URL as last parsed (the sender asks on every delivery: parse it once per value).</summary>
    private PublicBase? _publicBase;

    /// <summary>The listening addresses, kept once the server has bound them (they do not change while it runs).</summary>
    private Uri[]? _listening;

    private sealed record PublicBase(string Text, Uri? Uri);

    /// <summary>
    /// An absolute URL of this console for <paramref name="pathAndQuery"/> (<c>/w/acme/views/…</c>),
    /// under the public base URL: links the console hands out never take the request's Host.
    /// </summary>
    public string PublicUrl(string pathAndQuery) => $"{options.CurrentValue.PublicBaseUrl.TrimEnd('/')}/{pathAndQuery.TrimStart('/')}";

    /// <summary>An inbox's URL as senders use it: under the public base URL.</summary>
    public string InboxUrl(string token) => $"{options.CurrentValue.PublicBaseUrl.TrimEnd('/')}{InboxPath}{token}";

    /// <summary>True when <paramref name="url"/> names this console (by its public base URL or a listening address), whatever the path.</summary>
    public bool IsOwnAuthority(Uri url)
    {
        if (PublicBaseUri() is { } publicBase && SameAuthority(publicBase, url))
        {
            return true;
        }

        return Listening().Any(listening => SameAuthority(listening, url));
    }

    /// <summary>True when <paramref name="url"/> is an inbox URL of this console: its own authority, path <c>/inbox/…</c>, no query tricks needed.</summary>
    public bool IsOwnInbox(Uri url) =>
        IsOwnAuthority(url)
        && url.AbsolutePath.StartsWith(InboxPath, StringComparison.Ordinal)
        && url.AbsolutePath.Length > InboxPath.Length;

    /// <summary>Where this process listens, for an inbox request's connection; null when it does not listen (a CLI verb, a test host).</summary>
    public DnsEndPoint? ListeningEndPoint()
    {
        var first = Listening().FirstOrDefault();
        if (first is null)
        {
            return null;
        }

        var host = IsWildcard(first.Host) || first.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? "127.0.0.1" : first.Host.Trim('[', ']');
        return new DnsEndPoint(host, first.Port);
    }

    private Uri? PublicBaseUri()
    {
        var text = options.CurrentValue.PublicBaseUrl;
        var cached = _publicBase;
        if (cached?.Text != text)
        {
            cached = new PublicBase(text, Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null);
            _publicBase = cached;
        }

        return cached.Uri;
    }

    private Uri[] Listening()
    {
        if (_listening is { } kept)
        {
            return kept;
        }

        var listening = (server?.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [])
            // Kestrel writes wildcards as http://+:80, http://*:80 or http://[::]:80.
            .Select(a => Uri.TryCreate(a.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null)
            // Port 0 is a request for any port, not a bound socket (a test host that never listens keeps it).
            .OfType<Uri>().Where(uri => uri.Port != 0).ToArray();
        if (listening.Length > 0)
        {
            _listening = listening;
        }

        return listening;
    }

    private static bool SameAuthority(Uri own, Uri url)
    {
        if (!string.Equals(own.Scheme, url.Scheme, StringComparison.OrdinalIgnoreCase) || own.Port != url.Port)
        {
            return false;
        }

        if (string.Equals(own.IdnHost, url.IdnHost, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // A console listening on every interface, or on localhost, is also reached through loopback.
        return (IsWildcard(own.Host) || IsLoopbackName(own.IdnHost)) && IsLoopbackName(url.IdnHost);
    }

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "[::]" or "::";

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
