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
/// the campaign's webhooks subscribed to it. Where this process runs a dispatcher, the deliveries
/// its lanes have room for are handed to it directly (<see cref="DeliveryDispatcher.Reserve"/>).
/// </summary>
public sealed class EventService(IDbContextFactory<AppDbContext> dbFactory, DatabaseWriter writer, EndpointDirectory endpoints, DeliveryNotifier notifier, IDeliveryWakeup wakeup,
    IPayloadEnricher enricher, TimeProvider clock, DeliveryDispatcher? dispatcher = null)
{
    /// <summary>Most events one batch publishes.</summary>
    public const int MaxBatch = 1000;

    public async Task<PublishedEvent> PublishAsync(Caller caller, NewEvent request, CancellationToken cancellationToken = default) =>
        (await PublishManyAsync(caller, [request], cancellationToken))[0];

    /// <summary>
    /// Publishes events in one transaction, all or nothing: every id they name must belong to the
    /// caller's workspace (else 404, nothing stored); one audit entry covers them all.
    /// </summary>
    public async Task<IReadOnlyList<PublishedEvent>> PublishManyAsync(Caller caller, IReadOnlyList<NewEvent> requests, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        if (requests.Count is 0 or > MaxBatch)
        {
            throw new ValidationException("body", "events", $"Send 1 to {MaxBatch} events.", "too_long");
        }

        var applicationIds = requests.Where(r => r.ApplicationId is not null).Select(r => r.ApplicationId!.Value).Distinct().ToList();
        var campaignIds = requests.Where(r => r.CampaignId is not null).Select(r => r.CampaignId!.Value).Distinct().ToList();
        var callIds = requests.Where(r => r.CallId is not null).Select(r => r.CallId!).Distinct().ToList();
        if (applicationIds.Count + campaignIds.Count + callIds.Count > 0)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            RequireOwn(requests, r => r.ApplicationId?.ToString(), "Application", applicationIds.Count == 0 ? [] :
                (await db.Applications.Where(a => applicationIds.Contains(a.Id) && a.WorkspaceId == caller.WorkspaceId).Select(a => a.Id).ToListAsync(cancellationToken)).Select(id => id.ToString()).ToHashSet());
            RequireOwn(requests, r => r.CampaignId?.ToString(), "Campaign", campaignIds.Count == 0 ? [] :
                (await db.Campaigns.Where(c => campaignIds.Contains(c.Id) && c.WorkspaceId == caller.WorkspaceId).Select(c => c.Id).ToListAsync(cancellationToken)).Select(id => id.ToString()).ToHashSet());
            RequireOwn(requests, r => r.CallId, "Call", callIds.Count == 0 ? [] :
                (await db.Calls.Where(c => callIds.Contains(c.Id) && c.WorkspaceId == caller.WorkspaceId).Select(c => c.Id).ToListAsync(cancellationToken)).ToHashSet());
        }

        var candidates = (await endpoints.ActiveAsync(caller.WorkspaceId, cancellationToken))
            .Where(e => e.Scope == EndpointScope.Master
                || (e.Scope == EndpointScope.Application && e.ApplicationId != null && applicationIds.Contains(e.ApplicationId.Value))
                || (e.Scope == EndpointScope.Campaign && e.CampaignId != null && campaignIds.Contains(e.CampaignId.Value)))
            .ToList();

        var now = clock.GetUtcNow().UtcDateTime;
        var events = new List<WebhookEvent>(requests.Count);
        var deliveries = new List<Delivery>();
        var routes = new List<(Delivery, WebhookEndpoint)>();
        var published = new List<PublishedEvent>(requests.Count);
        foreach (var request in requests)
        {
            // The application's finishedUrl receives every event of its calls; the others filter by type.
            var targets = candidates.Where(e =>
                (e.Scope == EndpointScope.Master && e.Receives(request.EventType))
                || (e.Scope == EndpointScope.Application && e.ApplicationId == request.ApplicationId)
                || (e.Scope == EndpointScope.Campaign && e.CampaignId == request.CampaignId && e.Receives(request.EventType)));
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
            var mine = new List<Delivery>();
            foreach (var endpoint in targets)
            {
                var delivery = NewDelivery(evt, endpoint, body, now);
                mine.Add(delivery);
                routes.Add((delivery, endpoint));
            }

            events.Add(evt);
            deliveries.AddRange(mine);
            published.Add(new PublishedEvent(evt.Id, mine.Select(d => d.Id).ToList()));
        }

        var audit = events.Count == 1
            ? AuditLog.Entry(caller, now, "event.published", "event", events[0].Id, $"{events[0].Type}: {deliveries.Count} deliveries")
            : AuditLog.Entry(caller, now, "events.published", "event", $"{events.Count} events",
                $"{events.Count} events ({string.Join(", ", events.GroupBy(e => e.Type).Select(g => $"{g.Count()} {g.Key}"))}): {deliveries.Count} deliveries");
        // Deliveries whose lanes have room go straight to the dispatcher once committed (stored
        // leased to this node); the others are stored due and claimed.
        var handedOver = dispatcher?.Reserve(routes) ?? [];
        try
        {
            await writer.WriteAsync(Publications, new Publication(events, deliveries, audit));
        }
        catch
        {
            dispatcher?.Unreserve(handedOver);
            throw;
        }

        dispatcher?.HandOver(handedOver);
        if (handedOver.Count < deliveries.Count)
        {
            // Committed: the rest are due in the database; the dispatcher claims them now (here: when their lanes have room).
            var handed = handedOver.Select(c => c.Id).ToHashSet();
            wakeup.WakeFor(deliveries.Where(d => !handed.Contains(d.Id)).Select(d => d.EndpointId).Distinct().ToList());
        }

        notifier.Notify(caller.WorkspaceId);
        return published;
    }

    /// <summary>One publish: its events, their deliveries and its audit entry.</summary>
    private sealed record Publication(IReadOnlyList<WebhookEvent> Events, IReadOnlyList<Delivery> Deliveries, AuditEntry Audit);

    /// <summary>
    /// The publishes of a writer batch, stored together: on PostgreSQL one statement per table for
    /// all of them (each statement is a round trip), on SQLite the same prepared statements per row.
    /// </summary>
    private static readonly IWriteKind<Publication> Publications = new PublicationWrites();

    private sealed class PublicationWrites : IWriteKind<Publication>
    {
        public async Task WriteAsync(AppDbContext db, IReadOnlyList<Publication> items)
        {
            await DeliveryLedger.InsertAsync(db,
                items.Count == 1 ? items[0].Events : items.SelectMany(p => p.Events).ToList(),
                items.Count == 1 ? items[0].Deliveries : items.SelectMany(p => p.Deliveries).ToList());
            await AuditLog.InsertAsync(db, items.Select(p => p.Audit).ToList());
        }
    }

    /// <summary>404 when an id named by any of the requests is not among <paramref name="own"/>; names the first and, in a batch, where.</summary>
    private static void RequireOwn(IReadOnlyList<NewEvent> requests, Func<NewEvent, string?> id, string what, IReadOnlySet<string> own)
    {
        for (var i = 0; i < requests.Count; i++)
        {
            if (id(requests[i]) is { } named && !own.Contains(named))
            {
                throw new NotFoundException(requests.Count == 1 ? $"{what} not found." : $"events[{i}]: {what} not found.");
            }
        }
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
