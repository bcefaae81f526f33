using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Stats;

/// <summary>The hourly rollups against a GROUP BY over the raw rows, after real traffic and after every operation of the ledger.</summary>
public sealed class RollupTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private sealed record Key(DateTime Hour, Guid EndpointId, string EventType);

    private sealed record Counts(long Created, long Pending, long Delivered, long Failed, long Attempts, long FailedAttempts, long LatencySumMs);

    private static DateTime Hour(DateTime at) => new(at.Ticks - at.Ticks % TimeSpan.TicksPerHour, DateTimeKind.Utc);

    /// <summary>The reference: the workspace's raw rows, grouped in memory.</summary>
    private async Task<(Dictionary<Key, Counts> Counts, Dictionary<(Key, int), long> Latency)> RawAsync(Guid workspaceId)
    {
        await using var db = await app.DbAsync();
        return await RawAsync(db, workspaceId);
    }

    private static async Task<(Dictionary<Key, Counts> Counts, Dictionary<(Key, int), long> Latency)> RawAsync(AppDbContext db, Guid workspaceId)
    {
        var deliveries = await db.Deliveries.AsNoTracking().Where(d => d.WorkspaceId == workspaceId)
            .Select(d => new { d.Id, d.CreatedAt, d.EndpointId, d.EventType, d.Status }).ToListAsync();
        var types = deliveries.ToDictionary(d => d.Id, d => d.EventType);
        var attempts = await db.DeliveryAttempts.AsNoTracking().Where(a => a.WorkspaceId == workspaceId)
            .Select(a => new { a.DeliveryId, a.StartedAt, a.EndpointId, a.ResponseStatus, a.DurationMs }).ToListAsync();

        var counts = new Dictionary<Key, Counts>();
        void Add(Key key, Counts delta)
        {
            var c = counts.GetValueOrDefault(key) ?? new Counts(0, 0, 0, 0, 0, 0, 0);
            counts[key] = new Counts(c.Created + delta.Created, c.Pending + delta.Pending, c.Delivered + delta.Delivered, c.Failed + delta.Failed,
                c.Attempts + delta.Attempts, c.FailedAttempts + delta.FailedAttempts, c.LatencySumMs + delta.LatencySumMs);
        }

        foreach (var d in deliveries)
        {
            Add(new Key(Hour(d.CreatedAt), d.EndpointId, d.EventType), new Counts(1,
                d.Status == DeliveryStatus.Pending ? 1 : 0, d.Status == DeliveryStatus.Delivered ? 1 : 0, d.Status == DeliveryStatus.Failed ? 1 : 0, 0, 0, 0));
        }

        var latency = new Dictionary<(Key, int), long>();
        foreach (var a in attempts)
        {
            var key = new Key(Hour(a.StartedAt), a.EndpointId, types[a.DeliveryId]);
            Add(key, new Counts(0, 0, 0, 0, 1, a.ResponseStatus is >= 200 and < 300 ? 0 : 1, a.DurationMs));
            var bucket = (key, LatencyBuckets.Of(a.DurationMs));
            latency[bucket] = latency.GetValueOrDefault(bucket) + 1;
        }

        return (counts, latency);
    }

    private async Task<(Dictionary<Key, Counts> Counts, Dictionary<(Key, int), long> Latency)> RollupsAsync(Guid workspaceId)
    {
        await using var db = await app.DbAsync();
        return await RollupsAsync(db, workspaceId);
    }

    private static async Task<(Dictionary<Key, Counts> Counts, Dictionary<(Key, int), long> Latency)> RollupsAsync(AppDbContext db, Guid workspaceId)
    {
        var rows = await db.DeliveryRollups.AsNoTracking().Where(r => r.WorkspaceId == workspaceId).ToListAsync();
        var latency = await db.LatencyRollups.AsNoTracking().Where(r => r.WorkspaceId == workspaceId && r.Count != 0).ToListAsync();
        return (
            rows.Where(r => r.Created != 0 || r.Attempts != 0)
                .ToDictionary(r => new Key(r.HourStart, r.EndpointId, r.EventType),
                    r => new Counts(r.Created, r.Pending, r.Delivered, r.Failed, r.Attempts, r.FailedAttempts, r.LatencySumMs)),
            latency.ToDictionary(r => (new Key(r.HourStart, r.EndpointId, r.EventType), r.Bucket), r => r.Count));
    }

    /// <summary>Both read in one transaction, so the engine's writes cannot fall between them.</summary>
    private async Task AssertRollupsEqualRawAsync(Guid workspaceId)
    {
        await using var db = await app.DbAsync();
        await using var snapshot = TestProvider.IsPostgres
            ? await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead)
            : await db.Database.BeginTransactionAsync();
        var raw = await RawAsync(db, workspaceId);
        var rollups = await RollupsAsync(db, workspaceId);
        Assert.NotEmpty(raw.Counts);
        Assert.Equal(raw.Counts.OrderBy(p => p.Key.Hour).ThenBy(p => p.Key.EndpointId).ThenBy(p => p.Key.EventType),
            rollups.Counts.OrderBy(p => p.Key.Hour).ThenBy(p => p.Key.EndpointId).ThenBy(p => p.Key.EventType));
        Assert.Equal(raw.Latency.OrderBy(p => p.Key.Item1.Hour).ThenBy(p => p.Key.Item1.EndpointId).ThenBy(p => p.Key.Item1.EventType).ThenBy(p => p.Key.Item2),
            rollups.Latency.OrderBy(p => p.Key.Item1.Hour).ThenBy(p => p.Key.Item1.EndpointId).ThenBy(p => p.Key.Item1.EventType).ThenBy(p => p.Key.Item2));

        // The workspace-wide histogram the stats windows read: the same attempts by hour and bucket.
        var workspaceLatency = await db.WorkspaceLatencyRollups.AsNoTracking().Where(r => r.WorkspaceId == workspaceId && r.Count != 0)
            .ToDictionaryAsync(r => (r.HourStart, r.Bucket), r => r.Count);
        var expected = raw.Latency.GroupBy(p => (p.Key.Item1.Hour, p.Key.Item2)).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        Assert.Equal(expected.OrderBy(p => p.Key), workspaceLatency.OrderBy(p => p.Key));
    }

    [Fact]
    public async Task Rollups_equal_the_raw_aggregation_after_real_deliveries_retries_resends_a_replay_a_batch_and_an_endpoint_deletion()
    {
        var random = new Random(7);
        await using var good = await Receiver.StartAsync();
        await using var flaky = await Receiver.StartAsync();
        await using var bad = await Receiver.StartAsync();
        flaky.Respond([.. Enumerable.Range(0, 300).Select(_ => random.NextDouble() < 0.45 ? 500 : 200), 200]);
        bad.Respond(500);

        var workspace = "rollup-" + Guid.NewGuid().ToString("N")[..8];
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, workspace);
        var client = app.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/webhooks", new { url = good.Url })).StatusCode);
        var application = await (await client.PostAsJsonAsync("/v1/applications", new { name = "App", finishedUrl = flaky.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var campaign = await (await client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Spring" })).Content.ReadFromJsonAsync<JsonElement>();
        var campaignId = campaign.GetProperty("data").GetProperty("id").GetString();
        var campaignWebhook = await client.PostAsJsonAsync($"/api/v1/campaigns/{campaignId}/webhooks", new { url = bad.Url, events = new[] { "call.completed" } });
        Assert.Equal(HttpStatusCode.Created, campaignWebhook.StatusCode);
        var campaignWebhookId = (await campaignWebhook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("id").GetString();

        string[] types = ["call.completed", "call.failed", "sms.delivered"];
        var ids = new List<Guid>();
        for (var i = 0; i < 30; i++)
        {
            var response = await client.PostAsJsonAsync("/v1/events", new
            {
                eventType = types[random.Next(types.Length)],
                payload = new { n = i },
                applicationId = random.Next(2) == 0 ? application.GetProperty("id").GetString() : null,
                campaignId = random.Next(3) == 0 ? campaignId : null,
            });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.AddRange((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveryIds").EnumerateArray().Select(e => Guid.Parse(e.GetString()!)));
        }

        await AssertRollupsEqualRawAsync(workspaceId);
        foreach (var id in ids)
        {
            await app.WaitForDeliveryAsync(id, d => d.Status != DeliveryStatus.Pending, TimeSpan.FromSeconds(30));
        }

        await AssertRollupsEqualRawAsync(workspaceId);

        // Resend a mix of delivered and failed: they go back to pending and finish again.
        var caller = Caller.System(workspaceId, "test");
        var resent = ids.OrderBy(_ => random.Next()).Take(12).ToList();
        await app.Service<ResendService>().ResendManyAsync(caller, resent);
        foreach (var id in resent)
        {
            await app.WaitForDeliveryAsync(id, d => d.Status != DeliveryStatus.Pending && d.Attempts > 0, TimeSpan.FromSeconds(30));
        }

        await AssertRollupsEqualRawAsync(workspaceId);

        // A burst at once: a batch publish, a replay of everything that failed, and the failing
        // campaign webhook deleted while its new deliveries are pending (they fail with it).
        var batch = client.PostAsJsonAsync("/v1/events/batch", new
        {
            events = Enumerable.Range(0, 40).Select(i => new { eventType = "call.completed", payload = new { burst = i }, campaignId = i % 2 == 0 ? campaignId : null }),
        });
        var replay = await app.Service<ReplayService>().StartAsync(caller, new DeliveryFilter());
        var published = await batch;
        Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/campaigns/{campaignId}/webhooks/{campaignWebhookId}")).StatusCode);
        var burstIds = (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").EnumerateArray()
            .SelectMany(e => e.GetProperty("deliveryIds").EnumerateArray().Select(d => Guid.Parse(d.GetString()!))).ToList();
        for (var i = 0; i < 300 && app.Service<ReplayService>().Current(workspaceId) is not null; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(app.Service<ReplayService>().Latest(workspaceId)!.Finished, "the replay finished");
        Assert.True(replay.Total > 0, "the replay had failed deliveries to resend");
        foreach (var id in burstIds.Concat(ids))
        {
            await app.WaitForDeliveryAsync(id, d => d.Status != DeliveryStatus.Pending, TimeSpan.FromSeconds(30));
        }

        await using (var db = await app.DbAsync())
        {
            Assert.True(await db.Deliveries.CountAsync(d => d.WorkspaceId == workspaceId && d.LastError == "endpoint deleted") > 0, "the deletion failed pending deliveries");
        }

        await AssertRollupsEqualRawAsync(workspaceId);
        await using (var db = await app.DbAsync())
        {
            Assert.True(await db.Deliveries.CountAsync(d => d.WorkspaceId == workspaceId && d.Status == DeliveryStatus.Failed) > 0);
            Assert.True(await db.Deliveries.CountAsync(d => d.WorkspaceId == workspaceId && d.Status == DeliveryStatus.Delivered) > 0);
            Assert.True(await db.DeliveryAttempts.CountAsync(a => a.WorkspaceId == workspaceId && a.Trigger == AttemptTrigger.Retry) > 0);
        }

        // The stats the API serves are those rollups.
        var stats = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats?hours=2");
        var raw = await RawAsync(workspaceId);
        Assert.Equal(raw.Counts.Values.Sum(c => c.Created), stats.GetProperty("total").GetInt64());
        Assert.Equal(raw.Counts.Values.Sum(c => c.Delivered), stats.GetProperty("delivered").GetInt64());
        Assert.Equal(raw.Counts.Values.Sum(c => c.Failed), stats.GetProperty("failed").GetInt64());
    }

    [Fact]
    public async Task Rollups_follow_every_ledger_operation_on_history_and_the_rebuild_job_reproduces_them()
    {
        var random = new Random(11);
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Admin, "rollup-ledger-" + Guid.NewGuid().ToString("N")[..8]);
        var endpoints = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var now = DateTime.UtcNow;
        await using (var db = await app.DbAsync())
        {
            foreach (var endpoint in endpoints)
            {
                db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpoint, WorkspaceId = workspaceId, Scope = EndpointScope.Campaign, Url = "https://h.example.com/", SecretProtected = "x", CreatedAt = now, UpdatedAt = now });
            }

            await db.SaveChangesAsync();
        }

        // History through the ledger: deliveries in every state spread over 10 hours (some exactly on an hour), the pending ones held by a claim.
        const string Owner = "rollup-test:run";
        var deliveries = new List<Delivery>();
        for (var i = 0; i < 300; i++)
        {
            var created = Hour(now).AddHours(-random.Next(10)).AddTicks(i % 7 == 0 ? 0 : random.NextInt64(TimeSpan.TicksPerHour));
            var delivery = NewDelivery(workspaceId, endpoints[random.Next(2)], random.Next(3) == 0 ? "call.failed" : "call.completed", created, (DeliveryStatus)random.Next(3));
            if (delivery.Status == DeliveryStatus.Pending)
            {
                (delivery.LeaseOwner, delivery.LeaseUntil, delivery.NextAttemptAt) = (Owner, now.AddMinutes(5), now.AddMinutes(5));
            }

            deliveries.Add(delivery);
        }

        var writer = app.Service<DatabaseWriter>();
        var events = deliveries.Select(d => new WebhookEvent { Id = d.EventId, WorkspaceId = d.WorkspaceId, Type = d.EventType, Channel = d.Channel, PayloadJson = "{}", CreatedAt = d.CreatedAt }).ToList();
        await writer.WriteAsync(async db => { await DeliveryLedger.InsertAsync(db, events, deliveries); return 0; });

        // Attempts of the claimed ones (the first decides the state; later ones find the lease gone and stay history), at random times and outcomes.
        var ledger = app.Service<DeliveryLedger>();
        var records = new List<Task>();
        foreach (var delivery in deliveries.Where(d => d.Status == DeliveryStatus.Pending))
        {
            var claim = new DeliveryClaim(delivery.Id, workspaceId, delivery.EventId, delivery.EndpointId, "{}", random.Next(2), "https://h.example.com/", "x",
                EndpointStatus.Active, null, false, Owner, delivery.EventType, delivery.CreatedAt);
            for (var n = 1; n <= random.Next(4); n++)
            {
                var started = delivery.CreatedAt.AddMinutes(n * random.Next(1, 50));
                var duration = random.Next(0, 40_000);
                int? status = random.Next(3) == 0 ? null : random.Next(2) == 0 ? 200 : 503;
                records.Add(ledger.RecordAsync(claim, new SendResult("https://h.example.com/", "{}", status, null, null, null, duration,
                    status is null ? AttemptErrorClass.Timeout : AttemptErrorClass.None, status is null ? "timeout" : null, started, started.AddMilliseconds(duration))));
            }
        }

        await Task.WhenAll(records);

        // Resends of a selection, and one endpoint deleted (its pending deliveries fail).
        var resent = deliveries.OrderBy(d => d.Id).Take(40).Select(d => new DeliveryLedger.Reset(d.Id, "{\"resent\":true}")).ToList();
        await writer.WriteAsync(async db => (await DeliveryLedger.ResetAsync(db, workspaceId, resent, DateTime.UtcNow, DateTime.UtcNow)).Count);
        await writer.WriteAsync(db => DeliveryLedger.FailPendingAsync(db, endpoints[1], "endpoint deleted", DateTime.UtcNow));

        await using (var db = await app.DbAsync())
        {
            var statuses = await db.Deliveries.Where(d => d.WorkspaceId == workspaceId).Select(d => d.Status).Distinct().ToListAsync();
            Assert.Equal(3, statuses.Count);
            Assert.True(await db.DeliveryAttempts.CountAsync(a => a.WorkspaceId == workspaceId) > 50);
        }

        await AssertRollupsEqualRawAsync(workspaceId);
        var before = await RollupsAsync(workspaceId);

        // Wipe them and rebuild every hour from the raw rows: the same numbers.
        await using (var db = await app.DbAsync())
        {
            await db.DeliveryRollups.Where(r => r.WorkspaceId == workspaceId).ExecuteDeleteAsync();
            await db.LatencyRollups.Where(r => r.WorkspaceId == workspaceId).ExecuteDeleteAsync();
            await db.WorkspaceLatencyRollups.Where(r => r.WorkspaceId == workspaceId).ExecuteDeleteAsync();
        }

        await app.Service<RollupRebuildJob>().RunAsync(Hour(now).AddHours(-12), now.AddHours(2));
        var after = await RollupsAsync(workspaceId);
        Assert.Equal(before.Counts.OrderBy(p => p.Key.Hour).ThenBy(p => p.Key.EndpointId).ThenBy(p => p.Key.EventType),
            after.Counts.OrderBy(p => p.Key.Hour).ThenBy(p => p.Key.EndpointId).ThenBy(p => p.Key.EventType));
        Assert.Equal(before.Latency.Count, after.Latency.Count);
        await AssertRollupsEqualRawAsync(workspaceId);
    }

    [Fact]
    public async Task A_delivery_and_an_attempt_exactly_on_the_hour_count_once_in_the_hour_they_start()
    {
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Admin, "rollup-edge-" + Guid.NewGuid().ToString("N")[..8]);
        var endpoint = Guid.NewGuid();
        var ten = Hour(DateTime.UtcNow).AddHours(-5);
        await using (var db = await app.DbAsync())
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpoint, WorkspaceId = workspaceId, Scope = EndpointScope.Master, Url = "https://h.example.com/", SecretProtected = "x", CreatedAt = ten, UpdatedAt = ten });
            await db.SaveChangesAsync();
        }

        // Both claimed, then answered: one on the hour (200 in 120 ms), one a tick before it (500 in 30 ms, a test: no retry).
        const string Owner = "rollup-edge:run";
        var onTheHour = NewDelivery(workspaceId, endpoint, "call.completed", ten);
        var justBefore = NewDelivery(workspaceId, endpoint, "call.completed", ten.AddTicks(-1));
        foreach (var d in new[] { onTheHour, justBefore })
        {
            (d.LeaseOwner, d.LeaseUntil, d.NextAttemptAt) = (Owner, DateTime.UtcNow.AddMinutes(5), DateTime.UtcNow.AddMinutes(5));
        }

        await app.Service<DatabaseWriter>().WriteAsync(async db =>
        {
            await DeliveryLedger.InsertAsync(db, [.. new[] { onTheHour, justBefore }.Select(d => new WebhookEvent { Id = d.EventId, WorkspaceId = d.WorkspaceId, Type = d.EventType, Channel = d.Channel, PayloadJson = "{}", CreatedAt = d.CreatedAt })], [onTheHour, justBefore]);
            return 0;
        });
        var ledger = app.Service<DeliveryLedger>();
        DeliveryClaim Claim(Delivery d) => new(d.Id, workspaceId, d.EventId, endpoint, "{}", 0, "https://h.example.com/", "x", EndpointStatus.Active, null, false, Owner, d.EventType, d.CreatedAt);
        Assert.Equal(DeliveryStatus.Delivered, await ledger.RecordAsync(Claim(onTheHour),
            new SendResult("https://h.example.com/", "{}", 200, null, null, null, 120, AttemptErrorClass.None, null, ten, ten.AddMilliseconds(120))));
        Assert.Equal(DeliveryStatus.Failed, await ledger.RecordAsync(Claim(justBefore),
            new SendResult("https://h.example.com/", "{}", 500, null, null, null, 30, AttemptErrorClass.HttpStatus, "HTTP 500", ten.AddTicks(-1), ten.AddTicks(-1).AddMilliseconds(30)), final: true));

        var stats = app.Service<StatsService>();
        var caller = Caller.System(workspaceId, "test");
        var nine = await stats.GetAsync(caller, new StatsWindow(ten.AddHours(-1), ten));
        var tenToEleven = await stats.GetAsync(caller, new StatsWindow(ten, ten.AddHours(1)));
        var both = await stats.GetAsync(caller, new StatsWindow(ten.AddHours(-1), ten.AddHours(1)));

        Assert.Equal((1, 0, 1, 1), (nine.Total, nine.Delivered, nine.Failed, nine.Attempts));
        Assert.Equal((1, 1, 0, 1), (tenToEleven.Total, tenToEleven.Delivered, tenToEleven.Failed, tenToEleven.Attempts));
        Assert.Equal((2L, 2L), (both.Total, both.Attempts));
        Assert.Equal([ten.AddHours(-1), ten], both.Series.Select(b => b.BucketStart));
        Assert.Equal([(0L, 1L), (1L, 0L)], both.Series.Select(b => (b.Delivered, b.Failed)));
        Assert.Equal(150, tenToEleven.P95LatencyMs);
        Assert.Equal(50, nine.P50LatencyMs); // 30 ms falls in the 25-50 ms bucket
        Assert.Equal(75.0, both.AvgLatencyMs);
    }

    private static Delivery NewDelivery(Guid workspaceId, Guid endpointId, string type, DateTime created, DeliveryStatus status = DeliveryStatus.Pending) => new()
    {
        Id = Guid.CreateVersion7(),
        WorkspaceId = workspaceId,
        EventId = $"evt_{Guid.NewGuid():N}"[..28],
        EndpointId = endpointId,
        EventType = type,
        Channel = "voice",
        TargetUrl = "https://h.example.com/",
        TargetHost = "h.example.com",
        PayloadJson = "{}",
        Status = status,
        CreatedAt = created,
        UpdatedAt = created,
    };
}
