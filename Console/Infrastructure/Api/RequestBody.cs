using Microsoft.AspNetCore.Http.Features;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>A route's body limit, as endpoint metadata (<see cref="RequestBody.WithBodyLimit{TBuilder}"/>).</summary>
public sealed record BodyLimit(long Bytes);

/// <summary>
/// The one size rule for request bodies. Every route that reads a body reads it here: at most
/// <see cref="DefaultLimit"/> (1 MiB) unless the route declares another limit, and never more
/// than its limit is held in memory (a larger body is refused as soon as it is seen, with
/// <see cref="PayloadTooLargeException"/>, which every group answers as 413 in its envelope). The
/// server itself refuses anything over <see cref="ServerLimit"/> (the largest route limit), so a
/// body nobody reads through here (a form post) is bounded too.
/// </summary>
public static class RequestBody
{
    /// <summary>Any JSON body, one event, one inbox arrival.</summary>
    public const long DefaultLimit = 1024 * 1024;

    /// <summary><c>POST /v1/events/batch</c> as a whole; each of its events is still within <see cref="DefaultLimit"/>.</summary>
    public const long BatchLimit = 4 * 1024 * 1024;

    /// <summary>Kestrel's limit for every request: the largest route limit.</summary>
    public const long ServerLimit = BatchLimit;

    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));

    /// <summary>The limit of the route that is answering: its own, or <see cref="DefaultLimit"/>.</summary>
    public static long LimitOf(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<BodyLimit>()?.Bytes ?? DefaultLimit;

    /// <summary>"1 MiB", "4 MiB", "512 KiB": a limit as people read it.</summary>
    public static string Describe(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024} KiB";

    /// <summary>
    /// The whole body, or <see cref="PayloadTooLargeException"/> once it is over the route's limit
    /// (by its Content-Length before anything is read, else as soon as the bytes read pass it).
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext http)
    {
        var (bytes, tooLarge) = await ReadWithinLimitAsync(http, keepPrefix: false);
        return tooLarge ? throw TooLarge(LimitOf(http)) : bytes;
    }

    /// <summary>
    /// The whole body, or when it is over the route's limit its first limit's worth of bytes with
    /// <c>TooLarge</c> set (the rest is not read), so a route can say what made it too large.
    /// </summary>
    public static async Task<(ReadOnlyMemory<byte> Bytes, bool TooLarge)> ReadWithinLimitAsync(HttpContext http, bool keepPrefix = true)
    {
        var limit = LimitOf(http);
        var request = http.Request;
        if (request.ContentLength > limit && !keepPrefix)
        {
            return (ReadOnlyMemory<byte>.Empty, true);
        }

        // The server stops reading one byte past the limit (what it throws then is the same 413);
        // a body announced larger is read up to the limit for its prefix, and the rest never is.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } serverLimit)
        {
            serverLimit.MaxRequestBodySize = Math.Max(limit + 1, request.ContentLength ?? 0);
        }

        // Sized once when the length is known, so a large body is not copied while the buffer grows.
        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 16 * 1024, limit));
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    buffer.Write(chunk, 0, (int)(limit - buffer.Length));
                    return (keepPrefix ? buffer.ToArray() : ReadOnlyMemory<byte>.Empty, true);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (keepPrefix ? buffer.ToArray() : ReadOnlyMemory<byte>.Empty, true);
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), false);
    }

    public static PayloadTooLargeException TooLarge(long limit) =>
        new($"The request body is larger than {Describe(limit)}; nothing was stored.");
}
