using DeliveryConsole.Infrastructure;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>What a target URL must look like before it is saved. The network checks (SSRF) also run at connect time.</summary>
public static class EndpointUrl
{
    public const int MaxLength = 2048;

    /// <summary>Returns the URL normalized, or throws a <see cref="ValidationException"/> for <paramref name="field"/>.</summary>
    public static string Validate(string? url, string field)
    {
        var error = Check(url, out var normalized);
        if (error is not null)
        {
            throw new ValidationException("body", field, error, "url_parsing");
        }

        return normalized!;
    }

    public static string? Check(string? url, out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return "A URL is required";
        }

        url = url.Trim();
        if (url.Length > MaxLength)
        {
            return $"URL should have at most {MaxLength} characters";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "Input should be a valid absolute URL, e.g. https://example.com/webhooks";
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return $"Only http and https URLs are allowed, not '{uri.Scheme}'";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "URLs with a user name or password are not allowed; use the signing secret to authenticate";
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            return "The URL has no host";
        }

        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "The URL must not have a #fragment";
        }

        normalized = uri.AbsoluteUri;
        return null;
    }
}
