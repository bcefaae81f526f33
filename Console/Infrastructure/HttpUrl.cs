namespace DeliveryConsole.Infrastructure;

/// <summary>The rule for every option that holds a URL: absolute, http or https, with a host.</summary>
public static class HttpUrl
{
    public static bool IsAbsolute(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);

    public static string Rule(string option, string? value) =>
        $"{option} must be an absolute http(s) URL such as https://console.example.com, not '{value}'.";
}
