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
public sealed class ResendService(IDbContextFactory<AppDbContext> dbFactory, DatabaseWriter writer, IPayloadEnricher enricher, IDeliveryWakeup wakeup, DeliveryNotifier notifier, TimeProvider clock)
{
    /// <summary>Most deliveries one "resend selected" takes.</summary>
    public const int MaxSelection = 500;

    public async Task ResendAsync(Caller caller, Guid? applicationId, Guid deliveryId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var requestedAt = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (applicationId is { } appId && !await db.Applications.AnyAsync(a => a.Id == appId && a.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Application not found.");
        }

        var delivery = await db.Deliveries.AsNoTracking()
                .Where(d => d.Id == deliveryId && d.WorkspaceId == caller.WorkspaceId && (applicationId == null || d.ApplicationId == applicationId))
                .Select(d => new Target(d.Id, d.WorkspaceId, d.CallId, d.PayloadJson, d.EventType, d.TargetHost))
                .FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("Delivery not found.");

        var changed = await ResetAsync(caller, [delivery], requestedAt, d => ("delivery.resent", d[0].Id.ToString(), $"{delivery.EventType} to {delivery.TargetHost}"), cancellationToken);
        if (changed == 0)
        {
            throw new NotFoundException("Delivery not found.");
        }
    }

    /// <summary>
    /// Resends the given deliveries of the caller's workspace in one transaction with one audit
    /// entry (<paramref name="action"/>); ids of other workspaces are skipped. Returns how many.
    /// </summary>
    public async Task<int> ResendManyAsync(Caller caller, IReadOnlyCollection<Guid> deliveryIds, string action = "deliveries.resent", string? details = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var requestedAt = clock.GetUtcNow().UtcDateTime;
        if (deliveryIds.Count == 0)
        {
            return 0;
        }

        if (deliveryIds.Count > MaxSelection)
        {
            throw new ValidationException("body", "deliveryIds", $"At most {MaxSelection} deliveries can be resent at once.", "too_long");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deliveries = await db.Deliveries.AsNoTracking()
            .Where(d => deliveryIds.Contains(d.Id) && d.WorkspaceId == caller.WorkspaceId)
            .Select(d => new Target(d.Id, d.WorkspaceId, d.CallId, d.PayloadJson, d.EventType, d.TargetHost))
            .ToListAsync(cancellationToken);
        if (deliveries.Count == 0)
        {
            return 0;
        }

        return await ResetAsync(caller, deliveries, requestedAt, changed => (action, changed.Count == 1 ? changed[0].Id.ToString() : $"{changed.Count} deliveries",
            details ?? string.Join(", ", changed.Take(20).Select(d => d.Id)) + (changed.Count > 20 ? ", …" : "")), cancellationToken);
    }

    private sealed record Target(Guid Id, Guid WorkspaceId, string? CallId, string PayloadJson, string EventType, string TargetHost);

    /// <summary>
    /// Re-enriches the payloads, then resets the rows through the ledger with the audit entry in
    /// one write; wakes the dispatcher. <paramref name="requestedAt"/> is when the caller asked: a
    /// send begun since then serves the resend (see <see cref="DeliveryLedger.ResetAsync"/>).
    /// </summary>
    private async Task<int> ResetAsync(Caller caller, IReadOnlyList<Target> targets, DateTime requestedAt, Func<IReadOnlyList<Target>, (string Action, string TargetId, string Details)> audit, CancellationToken cancellationToken)
    {
        var resets = new List<DeliveryLedger.Reset>(targets.Count);
        foreach (var target in targets)
        {
            resets.Add(new DeliveryLedger.Reset(target.Id, await enricher.EnrichAsync(target.PayloadJson, target.WorkspaceId, target.CallId, cancellationToken)));
        }

        var changed = await writer.WriteAsync(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var ids = (await DeliveryLedger.ResetAsync(db, caller.WorkspaceId, resets, now, requestedAt)).ToHashSet();
            var done = targets.Where(t => ids.Contains(t.Id)).ToList();
            if (done.Count > 0)
            {
                var (action, targetId, details) = audit(done);
                await AuditLog.InsertAsync(db, AuditLog.Entry(caller, now, action, "delivery", targetId, details));
            }

            return done.Count;
        });
        if (changed > 0)
        {
            wakeup.Wake();
            notifier.Notify(caller.WorkspaceId);
        }

        return changed;
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
