using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary>Requests one API key may make per window.</summary>
    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 1200;

    [Range(1, 3600)]
    public int WindowSeconds { get; set; } = 60;
}

/// <summary>A fixed window per API key (per client address before authentication); 429 with Retry-After in the group's envelope.</summary>
public static class RateLimiting
{
    public static IHostApplicationBuilder AddApiRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(ApiGroupExtensions.RateLimitPolicy, http =>
            {
                var options = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var partition = Caller.FromPrincipal(http.User) is { ActorType: "key" } caller
                    ? "key:" + caller.ActorId
                    : "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.PermitLimit,
                    Window = TimeSpan.FromSeconds(options.WindowSeconds),
                    QueueLimit = 0,
                });
            });

            // Sign-in form posts: a sliding minute per client address; reading the page is not limited.
            limiter.AddPolicy(SignInThrottle.RateLimitPolicy, http => HttpMethods.IsPost(http.Request.Method)
                ? RateLimitPartition.GetSlidingWindowLimiter("sign-in:" + http.Connection.RemoteIpAddress, _ => new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = 30,
                    Window = TimeSpan.FromMinutes(1),
                    SegmentsPerWindow = 6,
                    QueueLimit = 0,
                })
                : RateLimitPartition.GetNoLimiter("sign-in:read"));

            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                    ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                    : 10;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                if (http.GetEndpoint()?.Metadata.GetMetadata<ErrorEnvelope>() is null && ApiGroups.EnvelopeFor(http.Request.Path) is null)
                {
                    http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    http.Response.ContentType = "text/plain; charset=utf-8";
                    await http.Response.WriteAsync($"Too many sign-in attempts from this address. Wait {seconds} seconds, then try again.", cancellationToken);
                    return;
                }

                var envelope = http.GetEndpoint()?.Metadata.GetMetadata<ErrorEnvelope>() ?? ApiGroups.EnvelopeFor(http.Request.Path) ?? ErrorEnvelope.Code;
                await envelope.Error(StatusCodes.Status429TooManyRequests, $"Too many requests for this API key; retry after {seconds} s.").ExecuteAsync(http);
            };
        });
        return builder;
    }
}
