using System.ComponentModel.DataAnnotations;
using System.Net;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> the console believes
/// (section <c>Proxy</c>): none by default, so a client cannot claim another address or scheme.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "Proxy";

    /// <summary>Addresses or CIDRs of the proxies in front of the console, comma-separated (<c>127.0.0.1</c>, <c>10.0.0.0/8</c>).</summary>
    public string TrustedProxies { get; set; } = "";

    public IReadOnlyList<IPNetwork> Networks() => [.. Parts().Select(Parse).OfType<IPNetwork>()];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var part in Parts().Where(p => Parse(p) is null))
        {
            yield return new ValidationResult($"Proxy:TrustedProxies: '{part}' is not an IP address or a CIDR (e.g. 127.0.0.1 or 10.0.0.0/8).", [nameof(TrustedProxies)]);
        }
    }

    private IEnumerable<string> Parts() => TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IPNetwork? Parse(string part) =>
        IPNetwork.TryParse(part, out var network) ? network
        : IPAddress.TryParse(part, out var address) ? new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
        : null;
}

/// <summary>
/// Nothing the console sends back is built from the request's Host header: every redirect that
/// names this console's own authority (the cookie handler's sign-in redirect, a page's
/// NavigateTo, a minimal API's redirect) leaves as a relative one (<c>/w/default/account/login?…</c>),
/// which the browser resolves against the address it really asked. Absolute links the console
/// hands out come from <c>Delivery:PublicBaseUrl</c> instead. Forwarded headers are read only from
/// <see cref="ProxyOptions.TrustedProxies"/>.
/// </summary>
public static class RequestOrigin
{
    /// <summary>The header Blazor's enhanced navigation reads a redirect from.</summary>
    private const string EnhancedNavigationRedirect = "blazor-enhanced-nav-redirect-location";

    public static IHostApplicationBuilder AddRequestOrigin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    /// <summary>First in the pipeline: the trusted proxies' forwarded headers, then relative redirects.</summary>
    public static WebApplication UseRequestOrigin(this WebApplication app)
    {
        var proxies = app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Networks();
        if (proxies.Count > 0)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in proxies)
            {
                forwarded.KnownIPNetworks.Add(network);
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                MakeRelative(http, Microsoft.Net.Http.Headers.HeaderNames.Location);
                MakeRelative(http, EnhancedNavigationRedirect);
                return Task.CompletedTask;
            });
            return next(http);
        });
        return app;
    }

    /// <summary>An absolute URL in <paramref name="header"/> naming the request's own Host becomes its path, query and fragment.</summary>
    private static void MakeRelative(HttpContext http, string header)
    {
        var headers = http.Response.Headers;
        if (headers[header].ToString() is not { Length: > 0 } value
            || !Uri.TryCreate(value, UriKind.Absolute, out var target)
            || target.Scheme is not ("http" or "https"))
        {
            return;
        }

        if (string.Equals(target.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            || string.Equals(target.Host, http.Request.Host.Host, StringComparison.OrdinalIgnoreCase))
        {
            // Never "//host/…" (a protocol-relative URL to another host): one leading slash.
            headers[header] = "/" + (target.PathAndQuery + target.Fragment).TrimStart('/', '\\');
        }
    }
}
