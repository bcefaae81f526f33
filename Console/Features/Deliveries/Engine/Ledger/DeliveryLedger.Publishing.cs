using DeliveryConsole.Data;
using DeliveryConsole.Features.Stats;

namespace DeliveryConsole.Features.Deliveries.Engine;

// Publishing: events and their new deliveries, with their rollups (SQLite per row, PostgreSQL from arrays).
public sealed partial class DeliveryLedger
{
    /// <summary>Stores events and their new deliveries (pending, or as given) in <paramref name="db"/>'s transaction, with their rollups.</summary>
    public static async Task InsertAsync(AppDbContext db, IReadOnlyList<WebhookEvent> events, IReadOnlyList<Delivery> deliveries)
    {
        if (db.IsPostgres())
        {
            await InsertSetBasedAsync(db, events, deliveries);
            return;
        }

        var eventInsert = RawSql.Prepared(db, """
            INSERT INTO events ("Id", "WorkspaceId", "Type", "Channel", "PayloadJson", "CallId", "ApplicationId", "CampaignId", "CreatedAt")
            VALUES (@id, @workspace, @type, @channel, @payload, @call, @application, @campaign, @created)
            """);
        foreach (var evt in events)
        {
            eventInsert.Set("@id", evt.Id);
            eventInsert.Set("@workspace", evt.WorkspaceId);
            eventInsert.Set("@type", evt.Type);
            eventInsert.Set("@channel", evt.Channel);
            eventInsert.Set("@payload", evt.PayloadJson);
            eventInsert.Set("@call", evt.CallId);
            eventInsert.Set("@application", evt.ApplicationId);
            eventInsert.Set("@campaign", evt.CampaignId);
            eventInsert.Set("@created", evt.CreatedAt);
            await eventInsert.ExecuteNonQueryAsync();
        }

        var deliveryInsert = RawSql.Prepared(db, """
            INSERT INTO deliveries ("Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "ApplicationId", "CampaignId", "EventType", "Channel", "CallId",
                "TargetUrl", "TargetHost", "PayloadJson", "Status", "Attempts", "NextAttemptAt", "LeaseUntil", "LeaseOwner", "CreatedAt", "UpdatedAt")
            VALUES (@id, @workspace, @event, @endpoint, @scope, @application, @campaign, @type, @channel, @call,
                @url, @host, @payload, @status, 0, @next, @leaseUntil, @leaseOwner, @created, @created)
            """);
        var rollups = new RollupChanges();
        foreach (var delivery in deliveries)
        {
            deliveryInsert.Set("@id", delivery.Id);
            deliveryInsert.Set("@workspace", delivery.WorkspaceId);
            deliveryInsert.Set("@event", delivery.EventId);
            deliveryInsert.Set("@endpoint", delivery.EndpointId);
            deliveryInsert.Set("@scope", (int)delivery.EndpointScope);
            deliveryInsert.Set("@application", delivery.ApplicationId);
            deliveryInsert.Set("@campaign", delivery.CampaignId);
            deliveryInsert.Set("@type", delivery.EventType);
            deliveryInsert.Set("@channel", delivery.Channel);
            deliveryInsert.Set("@call", delivery.CallId);
            deliveryInsert.Set("@url", delivery.TargetUrl);
            deliveryInsert.Set("@host", delivery.TargetHost);
            deliveryInsert.Set("@payload", delivery.PayloadJson);
            deliveryInsert.Set("@status", (int)delivery.Status);
            deliveryInsert.Set("@next", delivery.NextAttemptAt);
            deliveryInsert.Set("@leaseUntil", delivery.LeaseUntil);
            deliveryInsert.Set("@leaseOwner", delivery.LeaseOwner);
            deliveryInsert.Set("@created", delivery.CreatedAt);
            await deliveryInsert.ExecuteNonQueryAsync();
            rollups.DeliveryCreated(delivery.WorkspaceId, delivery.CreatedAt, delivery.EndpointId, delivery.EventType, delivery.Status);
        }

        await rollups.ApplyAsync(db);
    }

    /// <summary>PostgreSQL: the events in one INSERT and the deliveries in another, from arrays (each statement is a round trip to the server).</summary>
    private static async Task InsertSetBasedAsync(AppDbContext db, IReadOnlyList<WebhookEvent> events, IReadOnlyList<Delivery> deliveries)
    {
        var eventInsert = RawSql.Prepared(db, """
            INSERT INTO events ("Id", "WorkspaceId", "Type", "Channel", "PayloadJson", "CallId", "ApplicationId", "CampaignId", "CreatedAt")
            SELECT * FROM unnest(@id::text[], @workspace::text[], @type::text[], @channel::text[], @payload::text[], @call::text[],
                @application::text[], @campaign::text[], @created::bigint[])
            """);
        eventInsert.SetEach("@id", events, e => e.Id);
        eventInsert.SetEach("@workspace", events, e => e.WorkspaceId);
        eventInsert.SetEach("@type", events, e => e.Type);
        eventInsert.SetEach("@channel", events, e => e.Channel);
        eventInsert.SetEach("@payload", events, e => e.PayloadJson);
        eventInsert.SetEach("@call", events, e => e.CallId);
        eventInsert.SetEach("@application", events, e => e.ApplicationId);
        eventInsert.SetEach("@campaign", events, e => e.CampaignId);
        eventInsert.SetEach("@created", events, e => e.CreatedAt);
        await eventInsert.ExecuteNonQueryAsync();

        var rollups = new RollupChanges();
        if (deliveries.Count > 0)
        {
            var deliveryInsert = RawSql.Prepared(db, """
                INSERT INTO deliveries ("Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "ApplicationId", "CampaignId", "EventType", "Channel", "CallId",
                    "TargetUrl", "TargetHost", "PayloadJson", "Status", "Attempts", "NextAttemptAt", "LeaseUntil", "LeaseOwner", "CreatedAt", "UpdatedAt")
                SELECT u.id, u.workspace, u.event, u.endpoint, u.scope, u.application, u.campaign, u.type, u.channel, u.call,
                    u.url, u.host, u.payload, u.status, 0, u.next, u.lease_until, u.lease_owner, u.created, u.created
                FROM unnest(@id::text[], @workspace::text[], @event::text[], @endpoint::text[], @scope::integer[], @application::text[], @campaign::text[],
                    @type::text[], @channel::text[], @call::text[], @url::text[], @host::text[], @payload::text[], @status::integer[], @next::bigint[],
                    @leaseUntil::bigint[], @leaseOwner::text[], @created::bigint[])
                    AS u(id, workspace, event, endpoint, scope, application, campaign, type, channel, call, url, host, payload, status, next, lease_until, lease_owner, created)
                """);
            deliveryInsert.SetEach("@id", deliveries, d => d.Id);
            deliveryInsert.SetEach("@workspace", deliveries, d => d.WorkspaceId);
            deliveryInsert.SetEach("@event", deliveries, d => d.EventId);
            deliveryInsert.SetEach("@endpoint", deliveries, d => d.EndpointId);
            deliveryInsert.SetEach("@scope", deliveries, d => (int)d.EndpointScope);
            deliveryInsert.SetEach("@application", deliveries, d => d.ApplicationId);
            deliveryInsert.SetEach("@campaign", deliveries, d => d.CampaignId);
            deliveryInsert.SetEach("@type", deliveries, d => d.EventType);
            deliveryInsert.SetEach("@channel", deliveries, d => d.Channel);
            deliveryInsert.SetEach("@call", deliveries, d => d.CallId);
            deliveryInsert.SetEach("@url", deliveries, d => d.TargetUrl);
            deliveryInsert.SetEach("@host", deliveries, d => d.TargetHost);
            deliveryInsert.SetEach("@payload", deliveries, d => d.PayloadJson);
            deliveryInsert.SetEach("@status", deliveries, d => (int)d.Status);
            deliveryInsert.SetEach("@next", deliveries, d => d.NextAttemptAt);
            deliveryInsert.SetEach("@leaseUntil", deliveries, d => d.LeaseUntil);
            deliveryInsert.SetEach("@leaseOwner", deliveries, d => d.LeaseOwner);
            deliveryInsert.SetEach("@created", deliveries, d => d.CreatedAt);
            await deliveryInsert.ExecuteNonQueryAsync();
            foreach (var delivery in deliveries)
            {
                rollups.DeliveryCreated(delivery.WorkspaceId, delivery.CreatedAt, delivery.EndpointId, delivery.EventType, delivery.Status);
            }
        }

        await rollups.ApplyAsync(db);
    }
}
