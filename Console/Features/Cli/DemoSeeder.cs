using System.Diagnostics;
using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Inboxes;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Cli;

public sealed record SeedResult(string Workspace, int Endpoints, int Calls, int Events, int Deliveries, int Attempts, int Callbacks, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"Seeded workspace '{Workspace}': {Endpoints} endpoints, {Calls} calls, {Events} events, {Deliveries} deliveries, {Attempts} attempts, {Callbacks} callbacks in {Elapsed.TotalSeconds:F1} s.";
}

/// <summary>
/// <c>seed-demo</c>: a realistic week of traffic for one workspace. Endpoints are created through
/// the services (so secrets are real and protected); the bulk rows go in through prepared
/// statements in large transactions, which loads a million deliveries in a few minutes here.
/// Every seeded endpoint points at a webhook inbox of the console itself (one answers 503 on
/// purpose, one answers slowly), so a running demo delivers for real without leaving the machine.
/// </summary>
public sealed class DemoSeeder(
    WorkspaceService workspaces,
    WebhookService webhooks,
    InboxService inboxes,
    ApplicationService applications,
    CampaignService campaigns,
    IDbContextFactory<AppDbContext> dbFactory,
    IOptions<DatabaseOptions> database,
    TimeProvider clock)
{
    private const int BatchSize = 50_000;
    private static readonly TimeSpan History = TimeSpan.FromDays(7);

    private static readonly string[] Agents = ["agent_dispatch", "agent_billing", "agent_scheduling", "agent_followup"];
    private static readonly string[] CallTypes = ["load_check", "appointment_reminder", "payment_followup", "delivery_confirmation"];
    private static readonly string[] Names = ["Maria Diaz", "John Carter", "Aiko Tanaka", "Samuel Okafor", "Lena Fischer", "Priya Raman", "Tom Becker"];

    private readonly Random _random = new(20261122);

    public async Task<SeedResult> SeedAsync(string? workspaceName, int deliveries, Action<string> progress, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var (workspace, _) = await workspaces.EnsureAsync(workspaceName, cancellationToken);
        var caller = Caller.System(workspace.Id, "seed-demo");
        var endpoints = await EnsureEndpointsAsync(caller, cancellationToken);
        progress($"Endpoints ready: {endpoints.Count}.");

        var now = clock.GetUtcNow().UtcDateTime;
        var start = now - History;
        var callCount = Math.Clamp(deliveries / 5, 1, 200_000);
        var callbackCount = Math.Clamp(deliveries / 50, 5, 20_000);

        using var load = BulkLoad.Open(database.Value);
        var calls = SeedCalls(load, workspace.Id, callCount, start, now);
        progress($"Calls: {calls.Count}.");
        var (events, deliveryCount, attempts) = SeedDeliveries(load, workspace.Id, endpoints, calls, deliveries, start, now, progress);
        var callbacks = SeedCallbacks(load, workspace.Id, calls, callbackCount, now);
        // History is written in bulk, past the ledger: the rollups of its hours are recomputed from the rows.
        progress("Rollups: rebuilding the seeded hours.");
        load.RebuildRollups(Stats.StatsWindow.HourOf(start).Ticks, Stats.StatsWindow.HourOf(now).AddDays(1).Ticks);
        load.Analyze();

        return new SeedResult(workspace.Name, endpoints.Count, calls.Count, events, deliveryCount, attempts, callbacks, stopwatch.Elapsed);
    }

    /// <summary>A seeded endpoint; a flaky one fails more often in the seeded history (its inbox answers an error).</summary>
    private sealed record SeedEndpoint(Guid Id, EndpointScope Scope, Guid? ApplicationId, Guid? CampaignId, string Url, string[] EventTypes, bool Flaky);

    private async Task<List<SeedEndpoint>> EnsureEndpointsAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.WebhookEndpoints.AnyAsync(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null, cancellationToken))
            {
                // Each endpoint gets an inbox of this console as its URL: live deliveries stay on the machine.
                var created = new List<InboxView>();
                async Task<string> Inbox(string name, int status = 200, int delayMs = 0)
                {
                    var inbox = await inboxes.CreateAsync(caller, new InboxSettings(name, null, status, delayMs, InboxService.MaxLifetime), cancellationToken);
                    created.Add(inbox);
                    return inbox.Url;
                }

                await webhooks.SaveMasterAsync(caller, await Inbox("Acme Logistics · voice events"), [], 10, cancellationToken);
                await applications.CreateAsync(caller, "Dispatch assistant", await Inbox("Acme Logistics · calls finished"), cancellationToken);
                await applications.CreateAsync(caller, "Billing follow-up", await Inbox("Northwind billing · CDR"), cancellationToken);
                await applications.CreateAsync(caller, "Appointment reminders", await Inbox("Clinic portal · call done"), cancellationToken);
                var spring = await campaigns.CreateAsync(caller, "Spring carrier outreach", "active", cancellationToken);
                var renewals = await campaigns.CreateAsync(caller, "Contract renewals", "completed", cancellationToken);
                await webhooks.CreateCampaignWebhookAsync(caller, spring.Id, await Inbox("Acme CRM · campaign hooks"), ["campaign.started", "campaign.completed", "call.completed"], cancellationToken);
                await webhooks.CreateCampaignWebhookAsync(caller, spring.Id, await Inbox("Analytics ingest (failing on purpose)", 503), [], cancellationToken);
                await webhooks.CreateCampaignWebhookAsync(caller, renewals.Id, await Inbox("Northwind renewals (slow)", 200, 1500), ["campaign.started", "campaign.completed"], cancellationToken);

                // Each inbox verifies signatures with the secret of the endpoint that points at it.
                var byUrl = await db.WebhookEndpoints.AsNoTracking().Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null)
                    .ToDictionaryAsync(e => e.Url, e => e.Id, cancellationToken);
                foreach (var inbox in created)
                {
                    await inboxes.UpdateAsync(caller, inbox.Id, new InboxSettings(inbox.Name, byUrl.GetValueOrDefault(inbox.Url), inbox.AnswerStatus, inbox.AnswerDelayMs, TimeSpan.Zero), cancellationToken);
                }
            }
        }

        await using var read = await dbFactory.CreateDbContextAsync(cancellationToken);
        var list = await read.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null)
            .ToListAsync(cancellationToken);
        var failing = (await inboxes.ListAsync(caller, cancellationToken)).Where(i => i.AnswerStatus >= 400).Select(i => i.Url).ToHashSet();
        return list.Select(e => new SeedEndpoint(e.Id, e.Scope, e.ApplicationId, e.CampaignId, e.Url, [.. e.EventTypes],
            failing.Contains(e.Url) || e.Url.Contains("analytics", StringComparison.Ordinal))).ToList();
    }

    private sealed record SeedCall(string Id, DateTime CreatedAt, DateTime? EndedAt, string ToNumber, string Status);

    /// <summary>The one short recording every seeded completed call plays (relative to the data folder).</summary>
    private const string SeedRecording = "recordings/seed-demo.wav";

    private List<SeedCall> SeedCalls(BulkLoad load, Guid workspaceId, int count, DateTime start, DateTime now)
    {
        var result = new List<SeedCall>(count);
        var insert = load.Table("calls",
            "Id", "WorkspaceId", "Status", "Direction", "PhoneNumber", "ToNumber", "FromNumber", "CallTime", "CallStartTime", "CallEndTime",
            "CallType", "LoadId", "LoadNumber", "CreatedById", "RecordingStatus", "RecordingPath", "EventPublishedAt", "CreatedAt", "UpdatedAt");
        RecordingTone.Write(Path.Combine(database.Value.DataFolder, SeedRecording));
        var ws = workspaceId.ToString("D");
        for (var i = 0; i < count; i++)
        {
            var created = RandomTime(start, now);
            var roll = _random.NextDouble();
            var status = created > now.AddMinutes(-10) && roll < 0.3 ? CallStatus.InProgress
                : roll < 0.78 ? CallStatus.Completed
                : roll < 0.88 ? CallStatus.NoAnswer
                : roll < 0.95 ? CallStatus.Failed
                : CallStatus.Cancelled;
            var to = Phone();
            var started = created.AddSeconds(_random.Next(3, 40));
            var ended = status == CallStatus.InProgress ? (DateTime?)null : started.AddSeconds(_random.Next(20, 600));
            var id = "call_" + Guid.CreateVersion7(created).ToString("D");
            insert.Add(id, ws, status, _random.NextDouble() < 0.8 ? "OUTBOUND" : "INBOUND", to, to, "+13125550100", Ticks(created),
                status is CallStatus.Completed or CallStatus.InProgress ? Ticks(started) : null,
                status == CallStatus.Completed ? Ticks(ended!.Value) : null,
                Pick(CallTypes), "load_" + Guid.NewGuid().ToString("D"), "LD-" + _random.Next(100000, 999999),
                // History: the events of ended calls are part of the seeded deliveries already.
                "seed-demo", status == CallStatus.Completed ? "available" : "none", status == CallStatus.Completed ? SeedRecording : null,
                ended is null ? null : Ticks(ended.Value), Ticks(created), Ticks(ended ?? created));
            result.Add(new SeedCall(id, created, ended, to, status));
        }

        load.Commit();
        return result;
    }

    private (int Events, int Deliveries, int Attempts) SeedDeliveries(
        BulkLoad load, Guid workspaceId, List<SeedEndpoint> endpoints, List<SeedCall> calls, int target, DateTime start, DateTime now, Action<string> progress)
    {
        var ws = workspaceId.ToString("D");
        var master = endpoints.Where(e => e.Scope == EndpointScope.Master).ToList();
        var apps = endpoints.Where(e => e.Scope == EndpointScope.Application).ToList();
        var campaignHooks = endpoints.Where(e => e.Scope == EndpointScope.Campaign).ToList();

        var eventInsert = load.Table("events", "Id", "WorkspaceId", "Type", "Channel", "PayloadJson", "CallId", "ApplicationId", "CampaignId", "CreatedAt");
        var deliveryInsert = load.Table("deliveries",
            "Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "ApplicationId", "CampaignId", "EventType", "Channel", "CallId",
            "TargetUrl", "TargetHost", "PayloadJson", "Status", "Attempts", "NextAttemptAt", "LastResponseStatus", "LastError", "LastDurationMs",
            "LastAttemptAt", "CreatedAt", "DeliveredAt", "UpdatedAt");
        var attemptInsert = load.Table("delivery_attempts",
            "Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson", "RequestBody",
            "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt");

        // A call's events come after it ended: pick among the calls ended by the event's time.
        var ended = calls.Where(c => c.EndedAt is not null).OrderBy(c => c.EndedAt).ToList();
        var endTimes = ended.Select(c => c.EndedAt!.Value).ToArray();
        SeedCall? EndedBy(DateTime at)
        {
            var index = Array.BinarySearch(endTimes, at);
            var count = index >= 0 ? index + 1 : ~index;
            return count == 0 ? null : ended[_random.Next(count)];
        }

        var deliveries = 0;
        var events = 0;
        var attempts = 0;
        var lastReport = 0;
        while (deliveries < target)
        {
            // In the order a running console writes them: oldest first (rows laid out in time order,
            // as appended deliveries are), a few seconds of jitter.
            var created = start.AddTicks((long)((deliveries + _random.NextDouble()) / target * (now - start).Ticks));
            var (type, channel, call, targets) = PickEvent(() => EndedBy(created), master, apps, campaignHooks);
            if (targets.Count == 0)
            {
                continue;
            }

            var eventId = "evt_" + Guid.CreateVersion7(created).ToString("N")[..24];
            var payload = Payload(eventId, type, channel, call, created);
            var app = targets.FirstOrDefault(t => t.ApplicationId is not null);
            var campaign = targets.FirstOrDefault(t => t.CampaignId is not null);
            eventInsert.Add(eventId, ws, type, channel, payload.Event, call?.Id, app?.ApplicationId?.ToString("D"), campaign?.CampaignId?.ToString("D"), Ticks(created));
            events++;

            foreach (var endpoint in targets)
            {
                if (deliveries >= target)
                {
                    break;
                }

                attempts += InsertDelivery(deliveryInsert, attemptInsert, ws, endpoint, eventId, type, channel, call?.Id, payload.Body, created, now);
                deliveries++;
            }

            if (deliveries - lastReport >= BatchSize)
            {
                load.Commit();
                lastReport = deliveries;
                progress($"Deliveries: {deliveries:N0} / {target:N0}");
            }
        }

        load.Commit();
        progress($"Deliveries: {deliveries:N0}, attempts: {attempts:N0}, events: {events:N0}.");
        return (events, deliveries, attempts);
    }

    private (string Type, string Channel, SeedCall? Call, List<SeedEndpoint> Targets) PickEvent(
        Func<SeedCall?> pickCall, List<SeedEndpoint> master, List<SeedEndpoint> apps, List<SeedEndpoint> campaignHooks)
    {
        var roll = _random.NextDouble();
        string type;
        var channel = "voice";
        SeedCall? call = null;
        var targets = new List<SeedEndpoint>(3);
        if (roll < 0.62)
        {
            type = "call.completed";
            call = pickCall();
            targets.AddRange(master);
            if (apps.Count > 0)
            {
                targets.Add(Pick(apps));
            }

            if (campaignHooks.Count > 0 && _random.NextDouble() < 0.25)
            {
                targets.Add(Pick(campaignHooks));
            }
        }
        else if (roll < 0.72)
        {
            type = "call.failed";
            call = pickCall();
            targets.AddRange(master);
        }
        else if (roll < 0.82)
        {
            type = "sms.delivered";
            channel = "sms";
            targets.AddRange(master);
        }
        else if (roll < 0.90)
        {
            type = _random.NextDouble() < 0.5 ? "campaign.started" : "campaign.completed";
            targets.AddRange(campaignHooks.Count > 0 ? [Pick(campaignHooks)] : master);
        }
        else if (roll < 0.98)
        {
            type = _random.NextDouble() < 0.85 ? "callback.dispatched" : "callback.failed";
            call = pickCall();
            targets.AddRange(master);
        }
        else
        {
            type = "webhook.test";
            targets.AddRange(master);
        }

        return (type, channel, call, targets.Where(t => t.EventTypes.Length == 0 || t.EventTypes.Contains(type)).ToList());
    }

    private int InsertDelivery(BulkTable deliveries, BulkTable attempts, string ws, SeedEndpoint endpoint, string eventId, string type, string channel, string? callId, string payload, DateTime created, DateTime now)
    {
        // Recent rows are more often still pending; a flaky endpoint fails more.
        var age = now - created;
        var roll = _random.NextDouble();
        var flaky = endpoint.Flaky;
        var status = age < TimeSpan.FromHours(2) && roll < 0.06 ? DeliveryStatus.Pending
            : roll < (flaky ? 0.30 : 0.075) ? DeliveryStatus.Failed
            : DeliveryStatus.Delivered;
        var attemptCount = status switch
        {
            DeliveryStatus.Delivered => _random.NextDouble() < 0.85 ? 1 : _random.Next(2, 4),
            DeliveryStatus.Failed => 6,
            _ => _random.Next(1, 4),
        };

        var id = Guid.CreateVersion7(created);
        var host = new Uri(endpoint.Url).Host;
        var headers = $$"""{"content-type":"application/json","webhook-id":"{{eventId}}","webhook-timestamp":"{{new DateTimeOffset(created).ToUnixTimeSeconds()}}","webhook-signature":"v1,{{Convert.ToBase64String(Guid.NewGuid().ToByteArray())}}=="}""";
        var at = created;
        var rows = new List<object?[]>(attemptCount);
        int? lastStatus = null;
        string? lastError = null;
        var lastDuration = 0;
        for (var n = 1; n <= attemptCount; n++)
        {
            var success = status == DeliveryStatus.Delivered && n == attemptCount;
            var duration = success ? _random.Next(40, 450) : _random.Next(80, 15000);
            var (code, errorClass, error, body) = success
                ? (200, AttemptErrorClass.None, (string?)null, """{"received":true}""")
                : FailureOutcome(duration);
            rows.Add([Guid.CreateVersion7(at).ToString("D"), id.ToString("D"), ws, endpoint.Id.ToString("D"), n, n == 1 ? 0 : 1,
                endpoint.Url, headers, payload, code, code is null ? null : """{"content-type":"application/json"}""", body, body?.Length,
                duration, (int)errorClass, error, Ticks(at), Ticks(at.AddMilliseconds(duration))]);
            lastStatus = code;
            lastError = error;
            lastDuration = duration;
            if (n < attemptCount)
            {
                var retry = at.AddSeconds(Math.Pow(6, n) * 5);
                if (retry > now)
                {
                    // The next attempt is not due yet: the delivery is still pending, its retry scheduled.
                    status = DeliveryStatus.Pending;
                    attemptCount = n;
                    break;
                }

                at = retry;
            }
        }

        var deliveredAt = status == DeliveryStatus.Delivered ? at.AddMilliseconds(lastDuration) : (DateTime?)null;
        var next = status == DeliveryStatus.Pending ? at.AddSeconds(Math.Pow(6, attemptCount) * 5) : (DateTime?)null;
        deliveries.Add(id.ToString("D"), ws, eventId, endpoint.Id.ToString("D"), (int)endpoint.Scope, endpoint.ApplicationId?.ToString("D"), endpoint.CampaignId?.ToString("D"),
            type, channel, callId, endpoint.Url, host, payload, (int)status, attemptCount, next is null ? null : Ticks(next.Value), lastStatus, lastError, lastDuration,
            Ticks(at), Ticks(created), deliveredAt is null ? null : Ticks(deliveredAt.Value), Ticks(deliveredAt ?? at));
        foreach (var row in rows)
        {
            attempts.Add(row);
        }

        return attemptCount;
    }

    private (int? Code, AttemptErrorClass Class, string? Error, string? Body) FailureOutcome(int duration)
    {
        var roll = _random.NextDouble();
        return roll switch
        {
            < 0.45 => (500, AttemptErrorClass.HttpStatus, "HTTP 500 Internal Server Error", """{"error":"internal error"}"""),
            < 0.60 => (503, AttemptErrorClass.HttpStatus, "HTTP 503 Service Unavailable", "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"),
            < 0.70 => (404, AttemptErrorClass.HttpStatus, "HTTP 404 Not Found", """{"detail":"Not Found"}"""),
            < 0.85 => (null, AttemptErrorClass.Timeout, $"Timed out after {Math.Max(duration, 15000)} ms", null),
            < 0.95 => (null, AttemptErrorClass.ConnectionRefused, "Connection refused", null),
            _ => (null, AttemptErrorClass.Dns, "Name or service not known", null),
        };
    }

    /// <summary>An event's payload and the body its deliveries carry: the engine's envelope around it (<see cref="Deliveries.Engine.EventService.Envelope"/>).</summary>
    private (string Event, string Body) Payload(string eventId, string type, string channel, SeedCall? call, DateTime created)
    {
        object data = call is null
            ? new { message = $"{type} at {created:HH:mm}" }
            : new
            {
                call = new
                {
                    id = call.Id,
                    status = call.Status,
                    to_number = call.ToNumber,
                    duration_seconds = _random.Next(20, 600),
                    summary = $"Spoke with {Pick(Names)} about {Pick(CallTypes).Replace('_', ' ')}.",
                },
                recording_url = $"/v1/recordings/{call.Id}.wav?expires={new DateTimeOffset(created.AddDays(1)).ToUnixTimeSeconds()}&sig=seed",
            };
        var body = new
        {
            id = eventId,
            type,
            channel,
            created_at = created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            call_id = call?.Id,
            data,
        };
        return (JsonSerializer.Serialize(data), JsonSerializer.Serialize(body));
    }

    private int SeedCallbacks(BulkLoad load, Guid workspaceId, List<SeedCall> calls, int count, DateTime now)
    {
        var insert = load.Table("callbacks",
            "Id", "WorkspaceId", "SourceSessionId", "CreatedSessionId", "AgentId", "PhoneNumberId", "ToNumber", "FromNumber", "ScheduledAt", "Status",
            "Reason", "Instructions", "Summary", "PipelineConfigJson", "MetadataJson", "FailureCause", "CancelReason", "AttemptedAt", "DispatchedAt",
            "CancelledAt", "CreatedAt", "UpdatedAt");
        var ws = workspaceId.ToString("D");
        for (var i = 0; i < count; i++)
        {
            var source = Pick(calls);
            var scheduled = now.AddMinutes(_random.Next(-6 * 24 * 60, 2 * 24 * 60));
            var future = scheduled > now;
            var roll = _random.NextDouble();
            var status = future ? (roll < 0.9 ? CallbackStatus.Scheduled : CallbackStatus.Cancelled)
                : roll < 0.8 ? CallbackStatus.Dispatched : roll < 0.9 ? CallbackStatus.Failed : CallbackStatus.Cancelled;
            var name = Pick(Names);
            var created = source.CreatedAt.AddMinutes(5);
            insert.Add(Callback.NewId(), ws, source.Id, status == CallbackStatus.Dispatched ? Pick(calls).Id : null, Pick(Agents), "pn_" + _random.Next(1000, 9999),
                source.ToNumber, "+13125550100", Ticks(scheduled), status,
                $"{name} asked to be called back", $"Greet {name.Split(' ')[0]} by name and confirm the {Pick(CallTypes).Replace('_', ' ')}.",
                $"Caller was busy; prefers a call at {scheduled:HH:mm} UTC.", """{"voice":"alloy","language":"en-US"}""",
                $$"""{"priority":"{{(roll < 0.2 ? "high" : "normal")}}","source":"call_analysis"}""",
                status == CallbackStatus.Failed ? "Telephony provider rejected the call: number unreachable" : null,
                status == CallbackStatus.Cancelled ? "Customer confirmed by email" : null,
                status is CallbackStatus.Dispatched or CallbackStatus.Failed ? Ticks(scheduled) : null,
                status == CallbackStatus.Dispatched ? Ticks(scheduled.AddSeconds(2)) : null,
                status == CallbackStatus.Cancelled ? Ticks(created.AddMinutes(30)) : null,
                Ticks(created), Ticks(future ? created : scheduled));
        }

        load.Commit();
        return count;
    }

    private DateTime RandomTime(DateTime start, DateTime end) => start.AddTicks((long)(_random.NextDouble() * (end - start).Ticks));

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string Phone() => "+1" + _random.Next(201, 989) + _random.Next(200, 999) + _random.Next(1000, 9999);

    private static long Ticks(DateTime value) => value.Ticks;
}
