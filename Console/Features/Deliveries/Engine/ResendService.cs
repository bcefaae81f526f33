using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Resend: back to pending with 0 attempts, due now, the payload re-enriched (fresh signed links)
/// and stored, in one transaction with its audit entry; then enqueued. The next attempt is
/// recorded with the trigger "resend".
/// </summary>
public sealed class ResendService(IDbContextFactory<AppDbContext> dbFactory, IPayloadEnricher enricher, IBackgroundJobClient jobs, TimeProvider clock, ILogger<ResendService> logger)
{
    public async Task ResendAsync(Caller caller, Guid? applicationId, Guid deliveryId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (applicationId is { } appId && !await db.Applications.AnyAsync(a => a.Id == appId && a.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Application not found.");
        }

        var delivery = await db.Deliveries.FirstOrDefaultAsync(
                d => d.Id == deliveryId && d.WorkspaceId == caller.WorkspaceId && (applicationId == null || d.ApplicationId == applicationId),
                cancellationToken)
            ?? throw new NotFoundException("Delivery not found.");

        delivery.PayloadJson = enricher.Enrich(delivery.PayloadJson, delivery.CallId);
        delivery.Status = DeliveryStatus.Pending;
        delivery.Attempts = 0;
        delivery.NextAttemptAt = now;
        delivery.LeaseOwner = null;
        delivery.LeaseUntil = null;
        delivery.DeliveredAt = null;
        delivery.UpdatedAt = now;
        db.Record(caller, now, "delivery.resent", "delivery", delivery.Id.ToString(), $"{delivery.EventType} to {delivery.TargetHost}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        jobs.TryEnqueueDelivery(deliveryId, logger);
    }
}

public static class ResendApi
{
    public static RouteGroupBuilder MapResendApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup("/v1/applications", ErrorEnvelope.Code, "Applications");
        group.MapPost("/{id}/deliveries/{deliveryId}/resend", ResendDelivery).WithName("ResendApplicationDelivery");
        return group;
    }

    public static async Task<IResult> ResendDelivery(HttpContext http, string id, string deliveryId, ResendService resend)
    {
        var caller = http.Caller();
        caller.Require(Role.Operator);
        await resend.ResendAsync(caller, ApplicationApi.ParseId(id), ApplicationApi.ParseId(deliveryId, "deliveryId"), http.RequestAborted);
        return TypedResults.NoContent();
    }
}
