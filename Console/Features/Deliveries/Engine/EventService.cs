using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries.Engine;

public sealed record NewEvent(string EventType, string Channel, string PayloadJson, string? CallId, Guid? ApplicationId, Guid? CampaignId);

public sealed record PublishedEvent(string EventId, IReadOnlyList<Guid> DeliveryIds);

/// <summary>
/// Stores an event and one delivery per matching active endpoint in one transaction, then
/// wakes the dispatcher: the master webhook (if it takes the type), the application's finishedUrl, and
/// the campaign's webhooks subscribed to it.
/// </summary>
public sealed class EventService(IDbContextFactory<AppDbContext> dbFactory, DatabaseWriter writer, DeliveryNotifier notifier, IDeliveryWakeup wakeup, IPayloadEnricher enricher, TimeProvider clock)
{
    public async Task<PublishedEvent> PublishAsync(Caller caller, NewEvent request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (request.ApplicationId is { } applicationId && !await db.Applications.AnyAsync(a => a.Id == applicationId && a.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Application not found.");
        }

        if (request.CampaignId is { } campaignId && !await db.Campaigns.AnyAsync(c => c.Id == campaignId && c.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Campaign not found.");
        }

        if (request.CallId is { } callId && !await db.Calls.AnyAsync(c => c.Id == callId && c.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Call not found.");
        }

        var candidates = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null && e.Status == EndpointStatus.Active
                && (e.Scope == EndpointScope.Master
                    || (e.Scope == EndpointScope.Application && e.ApplicationId == request.ApplicationId && request.ApplicationId != null)
                    || (e.Scope == EndpointScope.Campaign && e.CampaignId == request.CampaignId && request.CampaignId != null)))
            .ToListAsync(cancellationToken);
        // The application's finishedUrl receives every event of its calls; the others filter by type.
        var targets = candidates.Where(e => e.Scope == EndpointScope.Application || e.Receives(request.EventType)).ToList();

        var now = clock.GetUtcNow().UtcDateTime;
        var evt = new WebhookEvent
        {
            Id = NewEventId(now),
            WorkspaceId = caller.WorkspaceId,
            Type = request.EventType,
            Channel = request.Channel,
            PayloadJson = request.PayloadJson,
            CallId = request.CallId,
            ApplicationId = request.ApplicationId,
            CampaignId = request.CampaignId,
            CreatedAt = now,
        };
        var body = await enricher.EnrichAsync(Envelope(evt, request.PayloadJson), evt.WorkspaceId, evt.CallId, cancellationToken);
        var deliveries = targets.Select(endpoint => NewDelivery(evt, endpoint, body, now)).ToList();
        await writer.WriteAsync(async w =>
        {
            w.Events.Add(evt);
            w.Deliveries.AddRange(deliveries);
            w.Record(caller, now, "event.published", "event", evt.Id, $"{evt.Type}: {deliveries.Count} deliveries");
            return await w.SaveChangesAsync();
        });

        // Committed: the rows are due in the database; the dispatcher claims them now.
        wakeup.Wake();
        notifier.Notify(caller.WorkspaceId);

        return new PublishedEvent(evt.Id, deliveries.Select(d => d.Id).ToList());
    }

    /// <summary>A pending delivery of <paramref name="evt"/> to <paramref name="endpoint"/>, due now.</summary>
    public static Delivery NewDelivery(WebhookEvent evt, WebhookEndpoint endpoint, string body, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        WorkspaceId = evt.WorkspaceId,
        EventId = evt.Id,
        EndpointId = endpoint.Id,
        EndpointScope = endpoint.Scope,
        ApplicationId = endpoint.ApplicationId,
        CampaignId = endpoint.CampaignId,
        EventType = evt.Type,
        Channel = evt.Channel,
        CallId = evt.CallId,
        TargetUrl = endpoint.Url,
        TargetHost = new Uri(endpoint.Url).Host.ToLowerInvariant(),
        PayloadJson = body,
        Status = DeliveryStatus.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
        UpdatedAt = now,
    };

    public static string NewEventId(DateTime at) => "evt_" + Guid.CreateVersion7(new DateTimeOffset(at)).ToString("N")[..12] + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The body every endpoint receives: the event's identity around the caller's payload.</summary>
    public static string Envelope(WebhookEvent evt, string payloadJson)
    {
        using var payload = JsonDocument.Parse(payloadJson);
        return JsonSerializer.Serialize(new
        {
            id = evt.Id,
            type = evt.Type,
            channel = evt.Channel,
            created_at = Infrastructure.Api.ApiJson.Format(evt.CreatedAt),
            call_id = evt.CallId,
            data = payload.RootElement,
        });
    }
}
