using Microsoft.AspNetCore.Diagnostics;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// Writes the errors that arise before an API handler runs, in the envelope of the path's group:
/// 404 for an unknown path under an API prefix, 405 for a method the route does not take, 415,
/// 400 from a bad route value or request, and a 500 from anything that escaped (logged, without
/// internals). A response that already has a body is left alone.
/// </summary>
public sealed class ApiErrorFallback(RequestDelegate next, ILogger<ApiErrorFallback> logger)
{
    /// <summary>The longest API URL (path and query) served; Kestrel admits longer request lines so that this answer keeps the envelope.</summary>
    public const int MaxUrlLength = 8 * 1024;

    /// <summary>Kestrel's own limit on the request line, beyond which it answers 414 itself before any of this runs.</summary>
    public const int KestrelRequestLineLimit = 64 * 1024;

    public async Task InvokeAsync(HttpContext http)
    {
        var envelope = ApiGroups.EnvelopeFor(http.Request.Path);
        if (envelope is null)
        {
            await next(http);
            return;
        }

        if (http.Request.Path.Value!.Length + (http.Request.QueryString.Value?.Length ?? 0) > MaxUrlLength)
        {
            await WriteAsync(http, envelope, StatusCodes.Status414RequestUriTooLong, $"The request URL is longer than {MaxUrlLength} characters.");
            return;
        }

        // The console's HTML status pages must not answer an API path.
        http.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException exception) when (!http.Response.HasStarted)
        {
            await WriteAsync(http, envelope, exception.StatusCode, exception.Message);
            return;
        }
        catch (Exception exception) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path} ({TraceId})", http.Request.Method, http.Request.Path, http.TraceIdentifier);
            await WriteAsync(http, envelope, StatusCodes.Status500InternalServerError, $"Internal error; nothing was changed. Reference: {http.TraceIdentifier}");
            return;
        }

        if (http.Response.StatusCode >= 400 && !http.Response.HasStarted && http.Response.ContentLength is null or 0 && http.Response.ContentType is null)
        {
            await WriteAsync(http, envelope, http.Response.StatusCode, MessageFor(http));
        }
    }

    private static string MessageFor(HttpContext http) => http.Response.StatusCode switch
    {
        StatusCodes.Status404NotFound => $"No route {http.Request.Method} {http.Request.Path}. The routes are listed in /openapi/v1.json.",
        StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}"
            + (http.Response.Headers.Allow.Count > 0 ? $"; allowed: {http.Response.Headers.Allow}." : "."),
        StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON with Content-Type: application/json.",
        StatusCodes.Status414RequestUriTooLong => "The request URL is too long.",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "The request headers are too large.",
        StatusCodes.Status401Unauthorized => "Missing, invalid or revoked API key. Send Authorization: Bearer <key>.",
        StatusCodes.Status403Forbidden => "Forbidden.",
        _ => "The request could not be processed.",
    };

    private static async Task WriteAsync(HttpContext http, ErrorEnvelope envelope, int status, string message)
    {
        http.Response.Clear();
        await envelope.Error(status, message).ExecuteAsync(http);
    }
}
