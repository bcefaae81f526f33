using System.Buffers;
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
        var read = await ReadUpToLimitAsync(http, keepPrefix);
        // What the route goes on to do with a large body (parse it, copy its parts) waits its turn.
        if (http.RequestServices.GetService<BodyBudget>() is { } budget)
        {
            try
            {
                if (await budget.EnterAsync(read.Bytes.Length, http.RequestAborted) is { } lease)
                {
                    http.Response.RegisterForDispose(lease);
                }
            }
            catch (ServiceBusyException)
            {
                http.Response.Headers.RetryAfter = "1";
                throw;
            }
        }

        return read;
    }

    private static async Task<(ReadOnlyMemory<byte> Bytes, bool TooLarge)> ReadUpToLimitAsync(HttpContext http, bool keepPrefix)
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

        // Read straight into a pooled buffer, sized once when the length is known (so a large body
        // is not copied while it grows), and handed back when the request ends: nothing the routes
        // keep refers to the bytes past their answer (they keep the text they took from them).
        var buffer = new PooledBody((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        http.Response.RegisterForDispose(buffer);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer.Free(), http.RequestAborted)) > 0)
            {
                buffer.Advance(read);
                if (buffer.Length > limit)
                {
                    return (keepPrefix ? buffer.Written[..(int)limit] : ReadOnlyMemory<byte>.Empty, true);
                }
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (keepPrefix ? buffer.Written : ReadOnlyMemory<byte>.Empty, true);
        }

        return (buffer.Written, false);
    }

    /// <summary>A body's bytes in an array from the shared pool, grown by doubling, returned once when disposed.</summary>
    private sealed class PooledBody(int capacity) : IDisposable
    {
        private byte[]? array = ArrayPool<byte>.Shared.Rent(capacity);

        public int Length { get; private set; }

        public ReadOnlyMemory<byte> Written => array.AsMemory(0, Length);

        /// <summary>The room left, doubled first when there is none (a buffer sized to the announced length has a byte to spare, to see the end).</summary>
        public Memory<byte> Free()
        {
            ObjectDisposedException.ThrowIf(array is null, this);
            if (array.Length == Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(array.Length * 2);
                array.AsSpan(0, Length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(array);
                array = larger;
            }

            return array.AsMemory(Length);
        }

        public void Advance(int count) => Length += count;

        public void Dispose()
        {
            if (array is not null)
            {
                ArrayPool<byte>.Shared.Return(array);
                array = null;
            }
        }
    }

    public static PayloadTooLargeException TooLarge(long limit) =>
        new($"The request body is larger than {Describe(limit)}; nothing was stored.");
}
