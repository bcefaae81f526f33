using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries.Engine;

public sealed record WebhookTestResult(bool Success, int? HttpStatus, int DurationMs, string? ResponseBody, string? ErrorMessage, Guid DeliveryId);

/// <summary>
/// Sends a <c>webhook.test</c> event to the master webhook now and waits for the answer. It is a
/// real delivery with one attempt (trigger "test") and no retries, so it shows in the inspector.
/// </summary>
public sealed class WebhookTestService(IDbContextFactory<AppDbContext> dbFactory, DatabaseWriter writer, DeliveryLedger ledger, DeliveryProcessor processor, TimeProvider clock)
{
    /// <summary>Sends a <c>webhook.test</c> event now to the master webhook, or to <paramref name="endpointId"/>, and waits for the answer.</summary>
    public async Task<WebhookTestResult> SendTestAsync(Caller caller, Guid? endpointId = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var now = clock.GetUtcNow().UtcDateTime;
        WebhookEndpoint endpoint;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var endpoints = db.WebhookEndpoints.AsNoTracking().Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null);
            endpoint = await (endpointId is { } id ? endpoints.Where(e => e.Id == id) : endpoints.Where(e => e.Scope == EndpointScope.Master))
                .FirstOrDefaultAsync(cancellationToken)
                ?? throw new NotFoundException(endpointId is null ? "No webhook is configured for this workspace." : "Webhook not found.");
        }

        var evt = new WebhookEvent
        {
            Id = EventService.NewEventId(now),
            WorkspaceId = caller.WorkspaceId,
            Type = "webhook.test",
            Channel = "voice",
            PayloadJson = """{"message":"This is a test event from Delivery Console."}""",
            CreatedAt = now,
        };
        var delivery = EventService.NewDelivery(evt, endpoint, EventService.Envelope(evt, evt.PayloadJson), now);
        // Held by this request: no dispatcher claims it while the test runs (and one does, as any
        // expired lease, should this process die before the answer is recorded).
        var claim = DeliveryClaim.LeaseNew(delivery, endpoint, DeliveryLedger.TestLeaseOwner, now.AddMinutes(5));
        await writer.WriteAsync(async db =>
        {
            await DeliveryLedger.InsertAsync(db, [evt], [delivery]);
            return 0;
        });

        var result = await processor.SendOnceAsync(endpoint, evt.Id, delivery.PayloadJson, cancellationToken);

        // The answer is recorded as any attempt is (the endpoint's health included); a test is never retried.
        await ledger.RecordAsync(claim, result, final: true);
        await writer.WriteAsync(async db =>
        {
            await AuditLog.InsertAsync(db, AuditLog.Entry(caller, result.CompletedAt, "webhook.tested", "webhook_endpoint", endpoint.Id.ToString(),
                result.Succeeded ? $"HTTP {result.ResponseStatus} in {result.DurationMs} ms" : result.Error, result.Succeeded ? AuditOutcome.Success : AuditOutcome.Failure));
            return 0;
        });

        return new WebhookTestResult(result.Succeeded, result.ResponseStatus, result.DurationMs, result.ResponseBody, result.Error, delivery.Id);
    }
}

public static class WebhookTestApi
{
    public static RouteGroupBuilder MapWebhookTestApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.AccountWebhooks);
        group.MapPost("/test", TestWebhook).WithName("TestWebhook")
            .WithSummary("Sends a webhook.test event to the master webhook now and returns its answer").Produces<WebhookTestResult>();
        return group;
    }

    public static async Task<IResult> TestWebhook(HttpContext http, WebhookTestService tests)
    {
        var result = await tests.SendTestAsync(http.Caller(), cancellationToken: http.RequestAborted);
        return TypedResults.Json(result, ApiJson.CamelCase);
    }
}
