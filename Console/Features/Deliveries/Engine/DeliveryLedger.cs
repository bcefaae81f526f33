using System.Threading.Channels;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// The one owner of delivery state. Nothing else changes a delivery's status, attempts, lease,
/// last-attempt fields or next attempt time, or an endpoint's health: publishing, claiming
/// (<see cref="DeliveryQueue"/>, beside it in this module), recording attempts, resending,
/// failing the pending deliveries of a deleted endpoint, the test send and retention all come
/// here. Each operation is typed, hand-written SQL on the caller's transaction (the writer's,
/// or the service's when the change must commit with its own rows), and keeps the hourly
/// rollups in that same transaction: its changes to them are added up per batch
/// (<see cref="RollupChanges"/>) and written once per rollup row, in key order.
/// </summary>
public sealed class DeliveryLedger : IAsyncDisposable
{
    private const int MaxRecordBatch = 256;

    private readonly DatabaseWriter _writer;
    private readonly DeliveryNotifier _notifier;
    private readonly IOptionsMonitor<DeliveryOptions> _options;
    private readonly ILogger<DeliveryLedger> _logger;
    private readonly EndpointDirectory _endpoints;
    private readonly IDeliveryWakeup _wakeup;
    private readonly Channel<Pending> _records = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _recordLoop;

    private sealed record Pending(DeliveryClaim Claim, SendResult Result, bool Final, TaskCompletionSource<DeliveryStatus?> Recorded);

    public DeliveryLedger(DatabaseWriter writer, DeliveryNotifier notifier, EndpointDirectory endpoints, IDeliveryWakeup wakeup, IOptionsMonitor<DeliveryOptions> options, ILogger<DeliveryLedger> logger)
    {
        _wakeup = wakeup;
        _endpoints = endpoints;
        _writer = writer;
        _notifier = notifier;
        _options = options;
        _logger = logger;
        _recordLoop = Task.Run(RecordLoopAsync);
    }

    public async ValueTask DisposeAsync()
    {
        _records.Writer.TryComplete();
        await _recordLoop;
    }

    // ---- Publishing --------------------------------------------------------------------------

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

    // ---- Resending ---------------------------------------------------------------------------

    /// <summary>What a resend changes: the delivery and the payload its next attempt sends (re-enriched).</summary>
    public sealed record Reset(Guid Id, string PayloadJson);

    /// <summary>
    /// Puts deliveries of <paramref name="workspaceId"/> back to pending with no attempts, due
    /// now, with their new payloads, in <paramref name="db"/>'s transaction. Never two sends of one
    /// delivery at once, and resends asked together make one send: a delivery whose send is in
    /// flight keeps its lease, and is marked to go back to pending once that attempt is recorded
    /// (unless the send in flight is already a resend's, which this one joins); a delivery whose
    /// resend (or first) send began after <paramref name="requestedAt"/> is left as it is. Returns
    /// the ones resent or joined (ids of other workspaces are skipped).
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> ResetAsync(AppDbContext db, Guid workspaceId, IReadOnlyList<Reset> resets, DateTime now, DateTime requestedAt)
    {
        var read = RawSql.Prepared(db, """
            SELECT "Status", "CreatedAt", "EndpointId", "EventType", "LeaseOwner", "LeaseUntil", "Attempts", "LastAttemptAt",
                EXISTS (SELECT 1 FROM delivery_attempts WHERE "DeliveryId" = @id)
            FROM deliveries WHERE "Id" = @id AND "WorkspaceId" = @workspace
            """);
        var update = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = 0, "Attempts" = 0, "NextAttemptAt" = @now, "LeaseOwner" = NULL, "LeaseUntil" = NULL,
                "ResendRequestedAt" = NULL, "DeliveredAt" = NULL, "PayloadJson" = @payload, "UpdatedAt" = @now
            WHERE "Id" = @id AND "Status" = @status AND NOT ("Status" = 0 AND "LeaseOwner" IS NOT NULL AND "LeaseUntil" > @now)
            """);
        // A send in flight is never doubled: the resend waits for its attempt to be recorded.
        var afterSend = RawSql.Prepared(db, """
            UPDATE deliveries SET "ResendRequestedAt" = COALESCE("ResendRequestedAt", @requested), "PayloadJson" = @payload, "UpdatedAt" = @now
            WHERE "Id" = @id AND "Status" + 0 = 0 AND "LeaseOwner" IS NOT NULL AND "LeaseUntil" > @now
            """);
        var rollups = new RollupChanges();
        var changed = new List<Guid>(resets.Count);
        foreach (var reset in resets)
        {
            // Each change is conditional on what was read: when another node's claim or record
            // came in between (PostgreSQL, several writers), the row is read again and decided anew.
            for (var attempt = 0; attempt < 5; attempt++)
            {
                read.Set("@id", reset.Id);
                read.Set("@workspace", workspaceId);
                DeliveryStatus status;
                DateTime createdAt;
                Guid endpointId;
                string eventType;
                bool inFlight, served;
                await using (var reader = await read.ExecuteReaderAsync())
                {
                    if (!await reader.ReadAsync())
                    {
                        break;
                    }

                    (status, createdAt, endpointId, eventType) = ((DeliveryStatus)reader.GetInt32(0), FromTicks(reader.GetInt64(1)), Guid.Parse(reader.GetString(2)), reader.GetString(3));
                    inFlight = status == DeliveryStatus.Pending && !reader.IsDBNull(4) && !reader.IsDBNull(5) && reader.GetInt64(5) > now.Ticks;
                    var attempts = reader.GetInt32(6);
                    var lastAttemptAt = reader.IsDBNull(7) ? (DateTime?)null : FromTicks(reader.GetInt64(7));
                    var attemptedBefore = reader.GetBoolean(8);
                    served = inFlight
                        // The send in flight is itself a resend's (no attempt counted since the reset): this one joins it.
                        ? attempts == 0 && attemptedBefore
                        // A resend's (or the first) send began after this was asked: it was this resend.
                        : attempts <= 1 && lastAttemptAt >= requestedAt;
                }

                if (served)
                {
                    changed.Add(reset.Id);
                    break;
                }

                var target = inFlight ? afterSend : update;
                target.Set("@id", reset.Id);
                target.Set("@now", now);
                target.Set("@payload", reset.PayloadJson);
                if (inFlight)
                {
                    target.Set("@requested", requestedAt);
                }
                else
                {
                    target.Set("@status", (int)status);
                }

                if (await target.ExecuteNonQueryAsync() == 1)
                {
                    if (!inFlight)
                    {
                        rollups.StatusChanged(workspaceId, createdAt, endpointId, eventType, status, DeliveryStatus.Pending);
                    }

                    changed.Add(reset.Id);
                    break;
                }
            }
        }

        await rollups.ApplyAsync(db);
        return changed;
    }

    /// <summary>
    /// The deliveries among <paramref name="ids"/> (just recorded) whose resend was asked while
    /// their send was in flight: back to pending with 0 attempts, due at <paramref name="now"/>.
    /// </summary>
    private static async Task<HashSet<Guid>> ResendAfterSendAsync(AppDbContext db, IReadOnlyCollection<Guid> ids, DateTime now)
    {
        var resend = RawSql.Prepared(db, $"""
            UPDATE deliveries SET "Status" = 0, "Attempts" = 0, "NextAttemptAt" = @now, "DeliveredAt" = NULL, "ResendRequestedAt" = NULL,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @now
            WHERE {RawSql.InIdList(db, "\"Id\"", "@ids")} AND "ResendRequestedAt" IS NOT NULL
            RETURNING "Id"
            """);
        resend.Set("@now", now);
        resend.Set("@ids", RawSql.IdList(db, ids));
        var resent = new HashSet<Guid>();
        await using var reader = await resend.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            resent.Add(Guid.Parse(reader.GetString(0)));
        }

        return resent;
    }

    // ---- Endpoint deleted --------------------------------------------------------------------

    /// <summary>Fails every pending delivery of an endpoint (it was deleted), releasing their leases, in <paramref name="db"/>'s transaction.</summary>
    public static async Task<int> FailPendingAsync(AppDbContext db, Guid endpointId, string reason, DateTime now)
    {
        var fail = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = 2, "LastError" = @reason, "NextAttemptAt" = NULL, "LeaseOwner" = NULL, "LeaseUntil" = NULL, "ResendRequestedAt" = NULL, "UpdatedAt" = @now
            WHERE "EndpointId" = @endpoint AND "Status" = 0
            RETURNING "WorkspaceId", "CreatedAt", "EventType"
            """);
        fail.Set("@reason", reason);
        fail.Set("@now", now);
        fail.Set("@endpoint", endpointId);
        var rollups = new RollupChanges();
        var count = 0;
        await using (var reader = await fail.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rollups.StatusChanged(Guid.Parse(reader.GetString(0)), FromTicks(reader.GetInt64(1)), endpointId, reader.GetString(2), DeliveryStatus.Pending, DeliveryStatus.Failed);
                count++;
            }
        }

        await rollups.ApplyAsync(db);
        return count;
    }

    // ---- Recording attempts ------------------------------------------------------------------

    /// <summary>
    /// Records an attempt of a claimed delivery, batched with the others that finished meanwhile
    /// (one write of the writer): the attempt, the delivery's new state (delivered; pending with
    /// its retry time; failed after the last attempt, a 410, or when <paramref name="final"/>),
    /// the endpoint's health, and the rollups. Returns the new status, or null when the claim had
    /// lost its lease (the attempt is kept as history, the state left to whoever holds it now).
    /// </summary>
    public Task<DeliveryStatus?> RecordAsync(DeliveryClaim claim, SendResult result, bool final = false)
    {
        var pending = new Pending(claim, result, final, new TaskCompletionSource<DeliveryStatus?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_records.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(DeliveryLedger));
        }

        return pending.Recorded.Task;
    }

    /// <summary>Fails a claimed delivery without sending it (its endpoint was deleted or disabled).</summary>
    public async Task FinishWithoutSendingAsync(DeliveryClaim claim, string reason, DateTime now)
    {
        await _writer.WriteAsync(async db =>
        {
            var fail = RawSql.Prepared(db, """
                UPDATE deliveries SET "Status" = 2, "LastError" = @reason, "NextAttemptAt" = NULL, "LeaseOwner" = NULL, "LeaseUntil" = NULL, "ResendRequestedAt" = NULL, "UpdatedAt" = @now
                WHERE "Id" = @id AND "LeaseOwner" = @owner AND "Status" + 0 = 0
                """);
            fail.Set("@reason", reason);
            fail.Set("@now", now);
            fail.Set("@id", claim.Id);
            fail.Set("@owner", claim.LeaseOwner);
            if (await fail.ExecuteNonQueryAsync() == 1)
            {
                var rollups = new RollupChanges();
                rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, DeliveryStatus.Pending, DeliveryStatus.Failed);
                await rollups.ApplyAsync(db);
            }

            return 0;
        });
        _notifier.Notify(claim.WorkspaceId);
    }

    private async Task RecordLoopAsync()
    {
        var batch = new List<Pending>(MaxRecordBatch);
        while (await _records.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxRecordBatch && _records.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                var settings = _options.CurrentValue;
                var (outcomes, disabled, retryAt) = await _writer.WriteAsync(db => RecordBatchAsync(db, batch, settings));
                if (disabled)
                {
                    // Committed: publishing stops matching the endpoints this batch disabled.
                    _endpoints.Invalidate();
                }

                if (retryAt is { } at)
                {
                    _wakeup.DueAt(at);
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Recorded.TrySetResult(outcomes[i]);
                }

                foreach (var workspace in batch.Select(p => p.Claim.WorkspaceId).Distinct())
                {
                    _notifier.Notify(workspace);
                }
            }
            catch (Exception exception)
            {
                _logger.LogError(exception, "Recording {Count} attempts failed; their leases expire and they are sent again", batch.Count);
                foreach (var item in batch)
                {
                    item.Recorded.TrySetException(exception);
                }
            }

            batch.Clear();
        }
    }

    /// <summary>What recording an attempt changes, worked out before anything is written.</summary>
    private readonly record struct Recorded(DeliveryClaim Claim, SendResult Result, DeliveryStatus Status, int Attempts, DateTime? Next, bool Test);

    private async Task<(DeliveryStatus?[] Outcomes, bool Disabled, DateTime? RetryAt)> RecordBatchAsync(AppDbContext db, List<Pending> batch, DeliveryOptions settings)
    {
        var recorded = batch.Select(p =>
        {
            var attempts = p.Claim.Attempts + 1;
            var status = p.Result.Succeeded ? DeliveryStatus.Delivered
                : p.Final || p.Result.ResponseStatus == 410 || attempts >= settings.MaxAttempts ? DeliveryStatus.Failed
                : DeliveryStatus.Pending;
            DateTime? next = status == DeliveryStatus.Pending ? p.Result.CompletedAt + DeliveryProcessor.RetryDelay(p.Result, attempts, settings) : null;
            return new Recorded(p.Claim, p.Result, status, attempts, next, p.Claim.LeaseOwner == TestLeaseOwner);
        }).ToList();

        // Which deliveries still held their lease (their state changed); the attempts are kept either way.
        // (Two attempts of one delivery in a batch need the per-row order: the first decides, the next finds the lease gone.)
        var (changed, resendAsked) = db.IsPostgres() && recorded.DistinctBy(r => r.Claim.Id).Count() == recorded.Count
            ? await WriteRecordsSetBasedAsync(db, recorded)
            : (await WriteRecordsAsync(db, recorded), true);

        DateTime? retryAt = null;
        var rollups = new RollupChanges();
        var outcomes = new DeliveryStatus?[batch.Count];
        for (var i = 0; i < recorded.Count; i++)
        {
            var (claim, result, status, attempts, next, _) = recorded[i];
            rollups.AttemptRecorded(claim.WorkspaceId, result.StartedAt, claim.EndpointId, claim.EventType, result.ResponseStatus, result.DurationMs);
            if (changed[i])
            {
                outcomes[i] = status;
                if (next is { } due && (retryAt is null || due < retryAt))
                {
                    retryAt = due;
                }

                rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, DeliveryStatus.Pending, status);
            }
            else
            {
                _logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", claim.Id);
            }

            if (!result.Succeeded)
            {
                _logger.LogInformation("Delivery {DeliveryId} attempt {Attempt}: {Outcome} ({Status}) in {DurationMs} ms",
                    claim.Id, attempts, outcomes[i]?.ToString() ?? "lease lost", result.ResponseStatus?.ToString() ?? result.ErrorClass.ToString(), result.DurationMs);
            }
        }

        var disabled = await UpdateHealthAsync(db, batch, outcomes, settings);
        var settled = recorded.Where((_, i) => changed[i]).Select(r => r.Claim.Id).ToList();
        if (resendAsked && settled.Count > 0)
        {
            var now = recorded.Max(r => r.Result.CompletedAt);
            var resent = await ResendAfterSendAsync(db, settled, now);
            for (var i = 0; i < recorded.Count && resent.Count > 0; i++)
            {
                if (outcomes[i] is { } outcome && resent.Remove(recorded[i].Claim.Id))
                {
                    var claim = recorded[i].Claim;
                    rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, outcome, DeliveryStatus.Pending);
                    outcomes[i] = DeliveryStatus.Pending;
                    retryAt = retryAt is null || now < retryAt ? now : retryAt;
                }
            }
        }

        await rollups.ApplyAsync(db);
        return (outcomes, disabled, retryAt);
    }

    /// <summary>SQLite: each attempt inserted and each state updated by prepared statements (in process, a statement costs microseconds).</summary>
    private static async Task<bool[]> WriteRecordsAsync(AppDbContext db, List<Recorded> recorded)
    {
        var insert = RawSql.Prepared(db, """
            INSERT INTO delivery_attempts ("Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson",
                "RequestBody", "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt")
            VALUES (@id, @delivery, @workspace, @endpoint,
                (SELECT COALESCE(MAX("Number"), 0) + 1 FROM delivery_attempts WHERE "DeliveryId" = @delivery),
                CASE WHEN @test THEN 3 WHEN @attempts > 0 THEN 1 WHEN EXISTS (SELECT 1 FROM delivery_attempts WHERE "DeliveryId" = @delivery) THEN 2 ELSE 0 END,
                @url, @requestHeaders, @body, @status, @responseHeaders, @responseBody, @responseSize, @duration, @errorClass, @error, @started, @completed)
            """);
        // Two forms of the state update: the row's target columns are rewritten only when the
        // endpoint's URL changed since the row was written (SQLite rewrites an index whenever a
        // column of it is assigned, even to the same value).
        var update = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = @newStatus, "Attempts" = @attempts, "NextAttemptAt" = @next, "DeliveredAt" = @delivered, "LastAttemptAt" = @started,
                "LastResponseStatus" = @status, "LastDurationMs" = @duration, "LastError" = @error,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @completed
            WHERE "Id" = @delivery AND "LeaseOwner" = @owner AND "Status" + 0 = 0
            """);
        var retarget = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = @newStatus, "Attempts" = @attempts, "NextAttemptAt" = @next, "DeliveredAt" = @delivered, "LastAttemptAt" = @started,
                "LastResponseStatus" = @status, "LastDurationMs" = @duration, "LastError" = @error, "TargetUrl" = @url, "TargetHost" = @host,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @completed
            WHERE "Id" = @delivery AND "LeaseOwner" = @owner AND "Status" + 0 = 0
            """);

        var changed = new bool[recorded.Count];
        for (var i = 0; i < recorded.Count; i++)
        {
            var (claim, result, status, attempts, next, test) = recorded[i];
            insert.Set("@id", Guid.CreateVersion7());
            insert.Set("@delivery", claim.Id);
            insert.Set("@workspace", claim.WorkspaceId);
            insert.Set("@endpoint", claim.EndpointId);
            insert.Set("@test", test);
            insert.Set("@attempts", claim.Attempts);
            insert.Set("@url", result.RequestUrl);
            insert.Set("@requestHeaders", result.RequestHeadersJson);
            insert.Set("@body", claim.PayloadJson);
            insert.Set("@status", result.ResponseStatus);
            insert.Set("@responseHeaders", result.ResponseHeadersJson);
            insert.Set("@responseBody", result.ResponseBody);
            insert.Set("@responseSize", result.ResponseBodySize);
            insert.Set("@duration", result.DurationMs);
            insert.Set("@errorClass", (int)result.ErrorClass);
            insert.Set("@error", result.Error);
            insert.Set("@started", result.StartedAt);
            insert.Set("@completed", result.CompletedAt);
            await insert.ExecuteNonQueryAsync();

            var state = claim.TargetUrl == claim.EndpointUrl ? update : retarget;
            state.Set("@newStatus", (int)status);
            state.Set("@attempts", attempts);
            state.Set("@next", next);
            state.Set("@delivered", result.Succeeded ? result.CompletedAt : null);
            state.Set("@started", result.StartedAt);
            state.Set("@status", result.ResponseStatus);
            state.Set("@duration", result.DurationMs);
            state.Set("@error", result.Error);
            if (state == retarget)
            {
                state.Set("@url", claim.EndpointUrl);
                state.Set("@host", new Uri(claim.EndpointUrl).Host.ToLowerInvariant());
            }

            state.Set("@completed", result.CompletedAt);
            state.Set("@delivery", claim.Id);
            state.Set("@owner", claim.LeaseOwner);
            changed[i] = await state.ExecuteNonQueryAsync() == 1;
        }

        return changed;
    }

    /// <summary>
    /// PostgreSQL: every attempt of the batch in one INSERT and every state in one UPDATE, from
    /// arrays (<c>unnest</c>): each statement is a round trip to the server, so two per batch
    /// instead of two per attempt.
    /// </summary>
    private static async Task<(bool[] Changed, bool ResendAsked)> WriteRecordsSetBasedAsync(AppDbContext db, List<Recorded> recorded)
    {
        var insert = RawSql.Prepared(db, """
            INSERT INTO delivery_attempts ("Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson",
                "RequestBody", "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt")
            SELECT u.id, u.delivery, u.workspace, u.endpoint,
                (SELECT COALESCE(MAX(a."Number"), 0) + 1 FROM delivery_attempts a WHERE a."DeliveryId" = u.delivery),
                CASE WHEN u.test THEN 3 WHEN u.attempts > 0 THEN 1 WHEN EXISTS (SELECT 1 FROM delivery_attempts a WHERE a."DeliveryId" = u.delivery) THEN 2 ELSE 0 END,
                u.url, u.request_headers, u.body, u.status, u.response_headers, u.response_body, u.response_size, u.duration, u.error_class, u.error, u.started, u.completed
            FROM unnest(@id::text[], @delivery::text[], @workspace::text[], @endpoint::text[], @test::boolean[], @attempts::integer[], @url::text[],
                @requestHeaders::text[], @body::text[], @status::integer[], @responseHeaders::text[], @responseBody::text[], @responseSize::bigint[],
                @duration::integer[], @errorClass::integer[], @error::text[], @started::bigint[], @completed::bigint[])
                AS u(id, delivery, workspace, endpoint, test, attempts, url, request_headers, body, status, response_headers, response_body, response_size,
                     duration, error_class, error, started, completed)
            """);
        insert.SetEach("@id", recorded, _ => Guid.CreateVersion7());
        insert.SetEach("@delivery", recorded, r => r.Claim.Id);
        insert.SetEach("@workspace", recorded, r => r.Claim.WorkspaceId);
        insert.SetEach("@endpoint", recorded, r => r.Claim.EndpointId);
        insert.SetEach("@test", recorded, r => r.Test);
        insert.SetEach("@attempts", recorded, r => r.Claim.Attempts);
        insert.SetEach("@url", recorded, r => r.Result.RequestUrl);
        insert.SetEach("@requestHeaders", recorded, r => r.Result.RequestHeadersJson);
        insert.SetEach("@body", recorded, r => r.Claim.PayloadJson);
        insert.SetEach("@status", recorded, r => r.Result.ResponseStatus);
        insert.SetEach("@responseHeaders", recorded, r => r.Result.ResponseHeadersJson);
        insert.SetEach("@responseBody", recorded, r => r.Result.ResponseBody);
        insert.SetEach("@responseSize", recorded, r => r.Result.ResponseBodySize);
        insert.SetEach("@duration", recorded, r => r.Result.DurationMs);
        insert.SetEach("@errorClass", recorded, r => (int)r.Result.ErrorClass);
        insert.SetEach("@error", recorded, r => r.Result.Error);
        insert.SetEach("@started", recorded, r => r.Result.StartedAt);
        insert.SetEach("@completed", recorded, r => r.Result.CompletedAt);
        await insert.ExecuteNonQueryAsync();

        var update = RawSql.Prepared(db, PostgresRecordStates);
        update.SetEach("@delivery", recorded, r => r.Claim.Id);
        update.SetEach("@owner", recorded, r => r.Claim.LeaseOwner);
        update.SetEach("@newStatus", recorded, r => (int)r.Status);
        update.SetEach("@attempts", recorded, r => r.Attempts);
        update.SetEach("@next", recorded, r => r.Next);
        update.SetEach("@delivered", recorded, r => r.Result.Succeeded ? r.Result.CompletedAt : (DateTime?)null);
        update.SetEach("@started", recorded, r => r.Result.StartedAt);
        update.SetEach("@status", recorded, r => r.Result.ResponseStatus);
        update.SetEach("@duration", recorded, r => r.Result.DurationMs);
        update.SetEach("@error", recorded, r => r.Result.Error);
        // The target is rewritten only where the endpoint's URL changed since the row was written.
        update.SetEach("@url", recorded, r => r.Claim.TargetUrl != r.Claim.EndpointUrl ? r.Claim.EndpointUrl : null);
        update.SetEach("@host", recorded, r => r.Claim.TargetUrl != r.Claim.EndpointUrl ? new Uri(r.Claim.EndpointUrl).Host.ToLowerInvariant() : null);
        update.SetEach("@completed", recorded, r => r.Result.CompletedAt);
        var updated = new HashSet<string>(StringComparer.Ordinal);
        // Whether any of them had a resend asked while in flight: the row's lease, held until this
        // statement, is what a resend on another node must see to mark it, so none can come after.
        var resendAsked = false;
        await using (var reader = await update.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                updated.Add(reader.GetString(0));
                resendAsked |= reader.GetBoolean(1);
            }
        }

        return (recorded.Select(r => updated.Contains(r.Claim.Id.ToString("D"))).ToArray(), resendAsked);
    }

    /// <summary>
    /// PostgreSQL: the state of each recorded delivery that still holds its lease, from arrays.
    /// <c>"Status" + 0 = 0</c>, not <c>"Status" = 0</c>, in this and every statement that finds
    /// rows by id: the plain term matches the due index's predicate, and when the statistics still
    /// say few rows are pending (a fresh table, a burst since the last analyze) the planner would
    /// scan every pending row once per id instead of reading the primary key (seen: 0.9 s per
    /// statement with 10,000 pending, a tenth of the batch route's throughput).
    /// </summary>
    internal const string PostgresRecordStates = """
        UPDATE deliveries AS d SET "Status" = u.new_status, "Attempts" = u.attempts, "NextAttemptAt" = u.next, "DeliveredAt" = u.delivered,
            "LastAttemptAt" = u.started, "LastResponseStatus" = u.status, "LastDurationMs" = u.duration, "LastError" = u.error,
            "TargetUrl" = COALESCE(u.url, d."TargetUrl"), "TargetHost" = COALESCE(u.host, d."TargetHost"),
            "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = u.completed
        FROM unnest(@delivery::text[], @owner::text[], @newStatus::integer[], @attempts::integer[], @next::bigint[], @delivered::bigint[], @started::bigint[],
            @status::integer[], @duration::integer[], @error::text[], @url::text[], @host::text[], @completed::bigint[])
            AS u(delivery, owner, new_status, attempts, next, delivered, started, status, duration, error, url, host, completed)
        WHERE d."Id" = u.delivery AND d."LeaseOwner" = u.owner AND d."Status" + 0 = 0
        RETURNING d."Id", d."ResendRequestedAt" IS NOT NULL
        """;

    /// <summary>
    /// One health update per endpoint of the batch: the failure streak (reset by a success, then
    /// counting the failures after it), the latest success and failure; and auto-disable on a 410
    /// or when every delivery of the window failed. True when it disabled one.
    /// </summary>
    private static async Task<bool> UpdateHealthAsync(AppDbContext db, List<Pending> batch, DeliveryStatus?[] outcomes, DeliveryOptions settings)
    {
        var disabledAny = false;
        var health = RawSql.Prepared(db, """
            UPDATE webhook_endpoints SET
                "ConsecutiveFailures" = CASE WHEN @reset THEN @failures ELSE "ConsecutiveFailures" + @failures END,
                "LastSuccessAt" = COALESCE(@success, "LastSuccessAt"),
                "LastFailureAt" = COALESCE(@failure, "LastFailureAt"),
                "LastError" = CASE WHEN @failure IS NULL THEN "LastError" ELSE @error END
            WHERE "Id" = @endpoint
            """);
        // In key order: writers of other connections or nodes that touch the same endpoints lock them in the same order (no deadlock).
        foreach (var endpoint in batch.Select((p, i) => (p.Claim, p.Result, Outcome: outcomes[i])).GroupBy(p => p.Claim.EndpointId).OrderBy(g => g.Key.ToString("D"), StringComparer.Ordinal))
        {
            var ordered = endpoint.OrderBy(p => p.Result.CompletedAt).ToList();
            var lastSuccess = ordered.FindLastIndex(p => p.Result.Succeeded);
            var failuresAfter = ordered.Skip(lastSuccess + 1).ToList();
            var lastFailure = failuresAfter.Count > 0 ? failuresAfter[^1].Result : null;
            health.Set("@reset", lastSuccess >= 0);
            health.Set("@failures", failuresAfter.Count);
            health.Set("@success", lastSuccess >= 0 ? ordered[lastSuccess].Result.CompletedAt : null);
            health.Set("@failure", lastFailure?.CompletedAt);
            health.Set("@error", lastFailure?.Error);
            health.Set("@endpoint", endpoint.Key);
            await health.ExecuteNonQueryAsync();

            var now = ordered[^1].Result.CompletedAt;
            var disableReason = ordered.Any(p => p.Result.ResponseStatus == 410 && p.Claim.LeaseOwner != TestLeaseOwner) ? "The endpoint answered 410 Gone"
                : ordered.Any(p => p.Outcome == DeliveryStatus.Failed && p.Claim.LeaseOwner != TestLeaseOwner) && await KeepsFailingAsync(db, endpoint.Key, now, settings)
                    ? $"Every delivery of the last {settings.DisableWindow.TotalHours:0.#} h failed ({settings.DisableAfterFailures} or more)"
                : null;
            if (disableReason is not null)
            {
                var disable = RawSql.Prepared(db, """
                    UPDATE webhook_endpoints SET "Status" = 1, "DisabledReason" = @reason, "DisabledAt" = @now, "UpdatedAt" = @now
                    WHERE "Id" = @endpoint AND "Status" = 0
                    """);
                disable.Set("@reason", disableReason);
                disable.Set("@now", now);
                disable.Set("@endpoint", endpoint.Key);
                disabledAny |= await disable.ExecuteNonQueryAsync() == 1;
            }
        }

        return disabledAny;
    }

    /// <summary>True when the endpoint has no delivered delivery created in the window and at least the configured number of failed ones.</summary>
    private static async Task<bool> KeepsFailingAsync(AppDbContext db, Guid endpointId, DateTime now, DeliveryOptions settings)
    {
        var recent = RawSql.Prepared(db, """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE "EndpointId" = @endpoint AND "CreatedAt" >= @since AND "Status" = 1) THEN 1 ELSE 0 END,
                   (SELECT COUNT(*) FROM deliveries WHERE "EndpointId" = @endpoint AND "CreatedAt" >= @since AND "Status" = 2)
            """);
        recent.Set("@endpoint", endpointId);
        recent.Set("@since", now - settings.DisableWindow);
        await using var reader = await recent.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetInt32(0) == 0 && reader.GetInt64(1) >= settings.DisableAfterFailures;
    }

    /// <summary>An endpoint enabled again starts a new failure streak, in <paramref name="db"/>'s transaction.</summary>
    public static async Task ResetFailureStreakAsync(AppDbContext db, Guid endpointId)
    {
        var reset = RawSql.Prepared(db, """UPDATE webhook_endpoints SET "ConsecutiveFailures" = 0 WHERE "Id" = @endpoint""");
        reset.Set("@endpoint", endpointId);
        await reset.ExecuteNonQueryAsync();
    }

    // ---- The test send -----------------------------------------------------------------------

    /// <summary>The lease owner of a test send's delivery while its request runs: no dispatcher claims it.</summary>
    public const string TestLeaseOwner = "webhook-test";

    // ---- Retention ---------------------------------------------------------------------------

    /// <summary>
    /// Removes up to <paramref name="size"/> finished deliveries of a workspace created before
    /// <paramref name="cutoff"/>, with their attempts and the events left without deliveries.
    /// The rollups keep their figures: history is trimmed, the hourly counts are not.
    /// </summary>
    public static async Task<int> RemoveFinishedAsync(AppDbContext db, Guid workspace, DateTime cutoff, int size)
    {
        var remove = RawSql.Prepared(db, db.IsPostgres()
            ? """
              WITH batch AS (
                  SELECT "Id" FROM deliveries
                  WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff AND "Status" <> 0
                  ORDER BY "CreatedAt" LIMIT @size),
              attempts AS (DELETE FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM batch)),
              removed AS (DELETE FROM deliveries WHERE "Id" IN (SELECT "Id" FROM batch) RETURNING 1)
              SELECT COUNT(*) FROM removed;
              DELETE FROM events WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d."EventId" = events."Id");
              """
            : """
              CREATE TEMP TABLE IF NOT EXISTS retention_batch ("Id" TEXT PRIMARY KEY);
              DELETE FROM retention_batch;
              INSERT INTO retention_batch
                  SELECT "Id" FROM deliveries
                  WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff AND "Status" <> 0
                  ORDER BY "CreatedAt" LIMIT @size;
              DELETE FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM retention_batch);
              DELETE FROM deliveries WHERE "Id" IN (SELECT "Id" FROM retention_batch);
              DELETE FROM events WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d."EventId" = events."Id");
              SELECT COUNT(*) FROM retention_batch;
              """);
        remove.Set("@workspace", workspace);
        remove.Set("@cutoff", cutoff);
        remove.Set("@size", size);
        return await remove.ExecuteScalarAsync() is long count ? (int)count : 0;
    }

    /// <summary>The mark of <see cref="TrimResponseBodiesAsync"/>: attempts started before it have had their bodies removed.</summary>
    public const string BodiesTrimmedMark = "response-bodies-trimmed";

    /// <summary>
    /// Removes the response bodies of up to <paramref name="size"/> attempts that started in
    /// [<paramref name="from"/>, <paramref name="to"/>), read per endpoint through the
    /// (endpoint, started) index; their status, headers, size and timing stay. When fewer than
    /// <paramref name="size"/> were left, the range is done and the mark moves to <paramref name="to"/>.
    /// Returns how many were trimmed.
    /// </summary>
    public static async Task<int> TrimResponseBodiesAsync(AppDbContext db, long from, long to, int size)
    {
        // SQLite picks the rows by rowid (its table's own key), PostgreSQL by the primary key.
        var rowKey = db.IsPostgres() ? "\"Id\"" : "rowid";
        var trim = RawSql.Prepared(db, $$"""
            UPDATE delivery_attempts SET "ResponseBody" = NULL
            WHERE {{rowKey}} IN (
                SELECT a.{{rowKey}} FROM webhook_endpoints e
                JOIN delivery_attempts a ON a."EndpointId" = e."Id" AND a."StartedAt" >= @from AND a."StartedAt" < @to
                WHERE a."ResponseBody" IS NOT NULL
                LIMIT @size)
            """);
        trim.Set("@from", from);
        trim.Set("@to", to);
        trim.Set("@size", size);
        var trimmed = await trim.ExecuteNonQueryAsync();
        if (trimmed < size)
        {
            var mark = RawSql.Prepared(db, $$"""
                INSERT INTO engine_marks ("Name", "Value") VALUES (@name, @value)
                ON CONFLICT ("Name") DO UPDATE SET "Value" = {{(db.IsPostgres() ? "GREATEST" : "MAX")}}(engine_marks."Value", excluded."Value")
                """);
            mark.Set("@name", BodiesTrimmedMark);
            mark.Set("@value", to);
            await mark.ExecuteNonQueryAsync();
        }

        return trimmed;
    }

    // ---- Values as stored --------------------------------------------------------------------

    internal static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);
}
