using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Resend: back to pending with 0 attempts, due now, the payload re-enriched (fresh signed links)
/// and stored, in one transaction with its audit entry; then enqueued. The next attempt is
/// recorded with the trigger "resend". One delivery, a selection, or (through
/// <see cref="ReplayService"/>) every failed delivery matching a filter.
/// </summary>
public sealed class ResendService(IDbContextFactory<AppDbContext> dbFactory, IPayloadEnricher enricher, IDeliveryWakeup wakeup, DeliveryNotifier notifier, TimeProvider clock)
{
    /// <summary>Most deliveries one "resend selected" takes.</summary>
    public const int MaxSelection = 500;

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

        await ResetAsync(delivery, now, cancellationToken);
        db.Record(caller, now, "delivery.resent", "delivery", delivery.Id.ToString(), $"{delivery.EventType} to {delivery.TargetHost}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        wakeup.Wake();
        notifier.Notify(caller.WorkspaceId);
    }

    /// <summary>
    /// Resends the given deliveries of the caller's workspace in one transaction with one audit
    /// entry (<paramref name="action"/>); ids of other workspaces are skipped. Returns how many.
    /// </summary>
    public async Task<int> ResendManyAsync(Caller caller, IReadOnlyCollection<Guid> deliveryIds, string action = "deliveries.resent", string? details = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        if (deliveryIds.Count == 0)
        {
            return 0;
        }

        if (deliveryIds.Count > MaxSelection)
        {
            throw new ValidationException("body", "deliveryIds", $"At most {MaxSelection} deliveries can be resent at once.", "too_long");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deliveries = await db.Deliveries.Where(d => deliveryIds.Contains(d.Id) && d.WorkspaceId == caller.WorkspaceId).ToListAsync(cancellationToken);
        foreach (var delivery in deliveries)
        {
            await ResetAsync(delivery, now, cancellationToken);
        }

        db.Record(caller, now, action, "delivery", deliveries.Count == 1 ? deliveries[0].Id.ToString() : $"{deliveries.Count} deliveries",
            details ?? string.Join(", ", deliveries.Take(20).Select(d => d.Id)) + (deliveries.Count > 20 ? ", …" : ""));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        wakeup.Wake();

        notifier.Notify(caller.WorkspaceId);
        return deliveries.Count;
    }

    private async Task ResetAsync(Delivery delivery, DateTime now, CancellationToken cancellationToken)
    {
        delivery.PayloadJson = await enricher.EnrichAsync(delivery.PayloadJson, delivery.WorkspaceId, delivery.CallId, cancellationToken);
        delivery.Status = DeliveryStatus.Pending;
        delivery.Attempts = 0;
        delivery.NextAttemptAt = now;
        delivery.LeaseOwner = null;
        delivery.LeaseUntil = null;
        delivery.DeliveredAt = null;
        delivery.UpdatedAt = now;
    }
}

public static class ResendApi
{
    public static RouteGroupBuilder MapResendApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Applications);
        group.MapPost("/{id}/deliveries/{deliveryId}/resend", ResendDelivery).WithName("ResendApplicationDelivery")
            .WithSummary("Resends a delivery now, with fresh signed links").Produces(StatusCodes.Status204NoContent);
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
