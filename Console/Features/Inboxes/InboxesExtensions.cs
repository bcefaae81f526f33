using System.Text.Json;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Inboxes;

public static class InboxesExtensions
{
    public static IHostApplicationBuilder AddInboxes(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InboxService>();
        builder.Services.AddHostedService<InboxSweep>();
        return builder;
    }

    /// <summary>
    /// The inbox URLs: any method, any path below the token, no sign-in (the token is the
    /// credential). The body is read up to <see cref="InboxService.MaxBodyBytes"/>; a larger one gets
    /// 413 and is not stored.
    /// </summary>
    public static IEndpointRouteBuilder MapInboxes(this IEndpointRouteBuilder routes)
    {
        routes.Map("/inbox/{token}", ReceiveAsync).AllowAnonymous().DisableAntiforgery().WithBodyLimit(InboxService.MaxBodyBytes).ExcludeFromDescription();
        routes.Map("/inbox/{token}/{**rest}", ReceiveAsync).AllowAnonymous().DisableAntiforgery().WithBodyLimit(InboxService.MaxBodyBytes).ExcludeFromDescription();
        return routes;
    }

    private static async Task ReceiveAsync(HttpContext http, string token, InboxService inboxes)
    {
        http.Response.Headers.CacheControl = "no-store";
        ReadOnlyMemory<byte> body;
        try
        {
            (body, var tooLarge) = await RequestBody.ReadWithinLimitAsync(http, keepPrefix: false);
            if (tooLarge)
            {
                await AnswerAsync(http, StatusCodes.Status413PayloadTooLarge, $"An inbox takes bodies up to {RequestBody.Describe(InboxService.MaxBodyBytes)}; nothing was recorded.");
                return;
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (ServiceBusyException busy)
        {
            await AnswerAsync(http, busy.StatusCode, busy.Message);
            return;
        }

        var headers = http.Request.Headers
            .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value.ToString()))
            .OrderBy(h => h.Key, StringComparer.Ordinal).ToList();
        var path = $"{http.Request.PathBase}{http.Request.Path}{http.Request.QueryString}";
        var answer = await inboxes.ReceiveAsync(token, new InboxArrival(http.Request.Method, path, headers, body.ToArray(), body.Length,
            http.Connection.RemoteIpAddress?.ToString()), http.RequestAborted);
        if (answer.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(answer.Delay, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await AnswerAsync(http, answer.Status, answer.Message);
    }

    private static Task AnswerAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new { message }), http.RequestAborted);
    }
}

/// <summary>Removes expired inboxes and what they received, every sweep interval.</summary>
public sealed class InboxSweep(InboxService inboxes, IOptionsMonitor<DeliveryOptions> options, TimeProvider clock, ILogger<InboxSweep> logger, IClusterSignals? cluster = null)
    : PeriodicSweep(options, clock, logger, cluster)
{
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await inboxes.SweepExpiredAsync(cancellationToken) > 0)
        {
        }
    }
}
