using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Deliveries;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>One HTTP attempt as it happened: the request as sent, the response as received (body truncated, size kept), or why there was none.</summary>
public sealed record SendResult(
    string RequestUrl,
    string RequestHeadersJson,
    int? ResponseStatus,
    string? ResponseHeadersJson,
    string? ResponseBody,
    long? ResponseBodySize,
    int DurationMs,
    AttemptErrorClass ErrorClass,
    string? Error,
    DateTime StartedAt,
    DateTime CompletedAt)
{
    public bool Succeeded => ResponseStatus is >= 200 and < 300;

    /// <summary>How long the endpoint asked us to wait (<c>Retry-After</c>, seconds or a date), when it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>429, 502, 503 and 504 mean "slow down" (Standard Webhooks): the endpoint is overloaded, not broken.</summary>
    public bool AsksToSlowDown => ResponseStatus is 429 or 502 or 503 or 504;
}

/// <summary>
/// POSTs a signed payload with the SSRF-guarded client: no redirects, no cookies, a per-request
/// timeout. It never throws for what the endpoint does; everything becomes a <see cref="SendResult"/>.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory httpClients, IOptionsMonitor<DeliveryOptions> options, TimeProvider clock, ConsoleAddress self)
{
    public const string ClientName = "webhooks";

    /// <summary>
    /// Sends <paramref name="body"/> signed with every one of <paramref name="secrets"/> (the current
    /// secret first; the previous one too during a rotation's grace period), space-separated in one
    /// <c>webhook-signature</c> header as Standard Webhooks allows: a receiver with either secret verifies it.
    /// </summary>
    public async Task<SendResult> SendAsync(string url, string messageId, IReadOnlyList<string> secrets, string body, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var started = clock.GetUtcNow();
        var timestamp = started.ToUnixTimeSeconds();
        // The body in UTF-8 once: signed and sent from the same bytes (a 1 MiB event is not copied
        // again per secret, per signed string and per request content). Not pooled: the client
        // may still be reading it when an early answer returns.
        var utf8 = Encoding.UTF8.GetBytes(body);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/json",
            ["user-agent"] = "DeliveryConsole/1.0 (+webhooks)",
            ["webhook-id"] = messageId,
            ["webhook-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = string.Join(' ', secrets.Select(secret => WebhookSignature.Sign(secret, messageId, timestamp, utf8))),
        };
        var headersJson = JsonSerializer.Serialize(headers);

        var target = new Uri(url, UriKind.Absolute);
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new ByteArrayContent(utf8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers.Where(h => h.Key != "content-type"))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = new CancellationTokenSource(settings.Timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var stopwatch = Stopwatch.StartNew();
        // This console's own address is a target only for its inboxes; the guard then connects to this process itself.
        if (self.IsOwnAuthority(target))
        {
            if (!self.IsOwnInbox(target))
            {
                return Result(AttemptErrorClass.Blocked, SsrfGuard.OwnAddressRefusal(target));
            }

            request.Options.Set(SsrfGuard.OwnInbox, true);
        }

        try
        {
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var (text, size) = await ReadLimitedAsync(response.Content, settings.ResponseBodyLimit, linked.Token);
            var responseHeaders = response.Headers.Concat(response.Content.Headers)
                .GroupBy(h => h.Key.ToLowerInvariant())
                .ToDictionary(g => g.Key, g => string.Join(", ", g.SelectMany(h => h.Value)));
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            return Result(ok ? AttemptErrorClass.None : AttemptErrorClass.HttpStatus, ok ? null : $"HTTP {status} {response.ReasonPhrase}".TrimEnd(),
                status, JsonSerializer.Serialize(responseHeaders), text, size) with { RetryAfter = RetryAfterOf(response, clock.GetUtcNow()) };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Result(AttemptErrorClass.Timeout, $"Timed out after {settings.Timeout.TotalMilliseconds:F0} ms");
        }
        catch (HttpRequestException exception)
        {
            var (errorClass, message) = Classify(exception);
            return Result(errorClass, message);
        }
        catch (BlockedTargetException exception)
        {
            return Result(AttemptErrorClass.Blocked, exception.Message);
        }

        SendResult Result(AttemptErrorClass errorClass, string? error, int? status = null, string? responseHeaders = null, string? responseBody = null, long? size = null) =>
            new(url, headersJson, status, responseHeaders, responseBody, size, (int)stopwatch.ElapsedMilliseconds, errorClass,
                error is { Length: > 1000 } ? error[..1000] : error, started.UtcDateTime, clock.GetUtcNow().UtcDateTime);
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response, DateTimeOffset now) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
            { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
            _ => null,
        };

    private static (AttemptErrorClass, string) Classify(HttpRequestException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case BlockedTargetException blocked:
                    return (AttemptErrorClass.Blocked, blocked.Message);
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return (AttemptErrorClass.ConnectionRefused, "Connection refused");
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } dns:
                    return (AttemptErrorClass.Dns, $"DNS lookup failed: {dns.Message}");
                case AuthenticationException tls:
                    return (AttemptErrorClass.Tls, $"TLS handshake failed: {tls.Message}");
            }
        }

        return exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => (AttemptErrorClass.Dns, $"DNS lookup failed: {exception.Message}"),
            HttpRequestError.SecureConnectionError => (AttemptErrorClass.Tls, $"TLS handshake failed: {exception.Message}"),
            HttpRequestError.ConnectionError => (AttemptErrorClass.ConnectionRefused, $"Connection failed: {exception.Message}"),
            _ => (AttemptErrorClass.Other, exception.Message),
        };
    }

    /// <summary>
    /// Keeps the first <paramref name="limit"/> bytes as text and counts the rest. Reads into a
    /// pooled buffer: most answers fit in it whole and are decoded from it, with nothing else
    /// allocated but the text (a fresh 16 KiB buffer per answer was a third of what a delivery allocated).
    /// </summary>
    private static async Task<(string Text, long Size)> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var head = ArrayPool<byte>.Shared.Rent(16 * 1024);
        byte[]? scratch = null;
        try
        {
            // The first bytes fill the pooled buffer; what is kept past it goes on in a stream.
            var filled = 0;
            MemoryStream? more = null;
            long total = 0;
            while (true)
            {
                int read;
                if (filled < head.Length)
                {
                    read = await stream.ReadAsync(head.AsMemory(filled), cancellationToken);
                    filled += read;
                }
                else
                {
                    scratch ??= ArrayPool<byte>.Shared.Rent(16 * 1024);
                    read = await stream.ReadAsync(scratch.AsMemory(), cancellationToken);
                    more ??= new MemoryStream();
                    more.Write(scratch, 0, (int)Math.Min(read, Math.Max(0, limit - filled - more.Length)));
                }

                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            var kept = Math.Min(filled, limit);
            if (more is not { Length: > 0 })
            {
                return (Encoding.UTF8.GetString(head, 0, kept), total);
            }

            var all = new byte[kept + more.Length];
            head.AsSpan(0, kept).CopyTo(all);
            more.GetBuffer().AsSpan(0, (int)more.Length).CopyTo(all.AsSpan(kept));
            return (Encoding.UTF8.GetString(all), total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }
}
