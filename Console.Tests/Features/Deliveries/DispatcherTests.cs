using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The engine with a long lease and a retry schedule whose last delay leaves room for Retry-After.</summary>
public sealed class DispatcherAppFactory : EngineAppFactory
{
    public static DispatcherAppFactory OnDatabaseOf(string path) => new() { SharedDatabasePath = path };

    protected override IEnumerable<KeyValuePair<string, string?>> More =>
    [
        new("Delivery:Lease", "00:10:00"),
        new("Delivery:Timeout", "00:00:03"),
        new("Delivery:RetryDelays", "00:00:00.200,00:00:06"),
    ];
}

/// <summary>The dispatcher: per-endpoint lanes, Retry-After, a restarted node taking back its own claims.</summary>
public sealed class DispatcherTests
{
    private static async Task<(HttpClient Client, Guid Workspace)> AdminAsync(ConsoleAppFactory app)
    {
        var (key, workspace) = await app.CreateKeyAsync(Role.Admin, "dispatch-" + Guid.NewGuid().ToString("N")[..8]);
        return (app.ClientWithKey(key), workspace);
    }

    private static async Task<List<Delivery>> DeliveriesAsync(ConsoleAppFactory app, Guid workspace)
    {
        await using var db = await app.DbAsync();
        return await db.Deliveries.AsNoTracking().Where(d => d.WorkspaceId == workspace).ToListAsync();
    }

    [Fact]
    public async Task A_slow_endpoint_holds_only_its_own_lane_and_the_others_keep_their_pace()
    {
        await using var app = new EngineAppFactory();
        await using var slow = await Receiver.StartAsync();
        await using var fast = await Receiver.StartAsync();
        slow.Then(200, TimeSpan.FromMilliseconds(900));
        var (client, workspace) = await AdminAsync(app);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = slow.Url })).EnsureSuccessStatusCode();
        var campaign = (await (await client.PostAsJsonAsync("/api/v1/campaigns", new { name = "lanes" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("id").GetString();
        (await client.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/webhooks", new { url = fast.Url })).EnsureSuccessStatusCode();

        var started = DateTime.UtcNow;
        (await client.PostAsJsonAsync("/v1/events/batch", new
        {
            events = Enumerable.Range(0, 48).Select(i => new { eventType = "campaign.started", campaignId = campaign, payload = new { i } }),
        })).EnsureSuccessStatusCode();

        // 48 to the slow endpoint take 48 × 0.9 s / 8 senders ≈ 5.4 s; the fast endpoint's 48 must not wait behind them.
        await using var db = await app.DbAsync();
        var fastEndpoint = await db.WebhookEndpoints.Where(e => e.WorkspaceId == workspace && e.Scope == EndpointScope.Campaign).Select(e => e.Id).SingleAsync();
        List<Delivery> all;
        do
        {
            await Task.Delay(50);
            all = await DeliveriesAsync(app, workspace);
        }
        while (all.Where(d => d.EndpointId == fastEndpoint).Any(d => d.Status != DeliveryStatus.Delivered) && DateTime.UtcNow - started < TimeSpan.FromSeconds(20));

        var elapsed = DateTime.UtcNow - started;
        Assert.All(all.Where(d => d.EndpointId == fastEndpoint), d => Assert.Equal(DeliveryStatus.Delivered, d.Status));
        Assert.True(elapsed < TimeSpan.FromSeconds(2.5), $"the fast endpoint took {elapsed.TotalSeconds:F1} s");
        var slowPending = all.Count(d => d.EndpointId != fastEndpoint && d.Status == DeliveryStatus.Pending);
        Assert.True(slowPending >= 16, $"only {slowPending} slow deliveries were still pending: the slow endpoint was not the one waiting");
        Assert.True(slow.Requests.Count <= 8 * (1 + (int)(elapsed.TotalSeconds / 0.9)) + 8, "the slow endpoint got more than its lane at once");
    }

    [Fact]
    public async Task During_a_rotation_grace_period_both_secrets_sign_and_after_it_only_the_new_one()
    {
        await using var app = new EngineAppFactory();
        await using var receiver = await Receiver.StartAsync();
        var (client, workspace) = await AdminAsync(app);
        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var oldSecret = created.GetProperty("secret").GetString()!;
        var endpointId = Guid.Parse(created.GetProperty("id").GetString()!);
        var admin = new Caller(workspace, Role.Admin, "user", "a", "Ada");
        var rotated = await app.Service<EndpointService>().RotateSecretAsync(admin, endpointId, TimeSpan.FromHours(1));

        async Task<ReceivedRequest> SendOneAsync()
        {
            var id = Guid.Parse((await (await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = receiver.Requests.Count } }))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveryIds")[0].GetString()!);
            Assert.Equal(DeliveryStatus.Delivered, (await app.WaitForDeliveryAsync(id, d => d.Status == DeliveryStatus.Delivered)).Status);
            return receiver.Requests.Last();
        }

        bool Verifies(ReceivedRequest request, string secret) => DeliveryConsole.Infrastructure.Delivery.WebhookSignature.Verify(
            secret, request.Headers["webhook-id"], long.Parse(request.Headers["webhook-timestamp"]), request.Body, request.Headers["webhook-signature"]);

        var during = await SendOneAsync();
        Assert.Equal(2, during.Headers["webhook-signature"].Split(' ').Length);
        Assert.True(Verifies(during, rotated.Secret), "the new secret must verify");
        Assert.True(Verifies(during, oldSecret), "the old secret must still verify during the grace period");

        // The grace period ends.
        await using (var db = await app.DbAsync())
        {
            var endpoint = await db.WebhookEndpoints.SingleAsync(e => e.Id == endpointId);
            endpoint.PreviousSecretUntil = DateTime.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync();
        }

        var after = await SendOneAsync();
        Assert.Single(after.Headers["webhook-signature"].Split(' '));
        Assert.True(Verifies(after, rotated.Secret));
        Assert.False(Verifies(after, oldSecret));
    }

    [Fact]
    public async Task Retry_After_of_a_503_is_honoured_never_earlier_than_it_says()
    {
        await using var app = new DispatcherAppFactory();
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(503, retryAfter: "2").Then(200);
        var (client, workspace) = await AdminAsync(app);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        var id = Guid.Parse((await (await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { } })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("deliveryIds")[0].GetString()!);

        var delivered = await app.WaitForDeliveryAsync(id, d => d.Status == DeliveryStatus.Delivered, TimeSpan.FromSeconds(15));
        Assert.Equal(DeliveryStatus.Delivered, delivered.Status);
        var requests = receiver.Requests.ToList();
        Assert.Equal(2, requests.Count);
        var waited = requests[1].At - requests[0].At;
        // The schedule alone would retry after 0.2 s; the endpoint asked for 2 s.
        Assert.True(waited >= TimeSpan.FromSeconds(1.9), $"retried after {waited.TotalSeconds:F2} s");
        Assert.True(waited < TimeSpan.FromSeconds(4), $"retried only after {waited.TotalSeconds:F2} s");
    }

    [Fact]
    public async Task A_restarted_node_sends_its_own_earlier_claims_at_once_and_leaves_other_nodes_leases_alone()
    {
        await using var receiver = await Receiver.StartAsync();
        var first = new DispatcherAppFactory();
        var path = first.DatabasePath;
        var (client, workspace) = await AdminAsync(first);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        var nodeId = first.Service<DeliveryConsole.Features.Deliveries.Engine.NodeIdentity>().Id;

        // As a kill -9 leaves them: two deliveries claimed by an earlier run of this node and one by another node, leased for minutes
        // (a claim moves a row's due time to its lease's end).
        var now = DateTime.UtcNow;
        Guid mineA = Guid.CreateVersion7(), mineB = Guid.CreateVersion7(), theirs = Guid.CreateVersion7();
        await using (var db = await first.DbAsync())
        {
            var endpoint = await db.WebhookEndpoints.SingleAsync(e => e.WorkspaceId == workspace && e.Scope == EndpointScope.Master && e.DeletedAt == null);
            foreach (var (id, owner) in new[] { (mineA, $"{nodeId}:deadrun1"), (mineB, $"{nodeId}:deadrun1"), (theirs, "othernode1:run2") })
            {
                db.Events.Add(new WebhookEvent { Id = "evt_crash" + id.ToString("N")[^12..], WorkspaceId = workspace, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = now.AddSeconds(-5) });
                db.Deliveries.Add(new Delivery
                {
                    Id = id, WorkspaceId = workspace, EventId = "evt_crash" + id.ToString("N")[^12..], EndpointId = endpoint.Id, EndpointScope = EndpointScope.Master,
                    EventType = "call.completed", Channel = "voice", TargetUrl = endpoint.Url, TargetHost = "127.0.0.1", PayloadJson = "{}",
                    Status = DeliveryStatus.Pending, NextAttemptAt = now.AddMinutes(10), LeaseOwner = owner, LeaseUntil = now.AddMinutes(10),
                    CreatedAt = now.AddSeconds(-5), UpdatedAt = now.AddSeconds(-5),
                });
            }

            await db.SaveChangesAsync();
        }

        await first.DisposeAsyncKeepingData();
        Assert.Empty(receiver.Requests);

        await using var restarted = DispatcherAppFactory.OnDatabaseOf(path);
        var answered = DateTime.UtcNow;
        _ = restarted.Server;
        Assert.Equal(nodeId, restarted.Service<DeliveryConsole.Features.Deliveries.Engine.NodeIdentity>().Id);
        var a = await restarted.WaitForDeliveryAsync(mineA, d => d.Status == DeliveryStatus.Delivered, TimeSpan.FromSeconds(15));
        var b = await restarted.WaitForDeliveryAsync(mineB, d => d.Status == DeliveryStatus.Delivered, TimeSpan.FromSeconds(15));
        Assert.Equal(DeliveryStatus.Delivered, a.Status);
        Assert.Equal(DeliveryStatus.Delivered, b.Status);
        Assert.True(DateTime.UtcNow - answered < TimeSpan.FromSeconds(10), "took its own claims back within seconds, not after the 10-minute lease");

        await using var check = await restarted.DbAsync();
        var other = await check.Deliveries.AsNoTracking().SingleAsync(d => d.Id == theirs);
        Assert.Equal(DeliveryStatus.Pending, other.Status);
        Assert.Equal("othernode1:run2", other.LeaseOwner);
    }

    [Fact]
    public async Task Published_deliveries_go_straight_to_their_lane_while_it_has_room_and_the_rest_wait_due_in_the_database()
    {
        await using var app = new EngineAppFactory();
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, TimeSpan.FromMilliseconds(500));
        var (client, workspace) = await AdminAsync(app);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        var owner = app.Service<DeliveryConsole.Features.Deliveries.Engine.NodeIdentity>().LeaseOwner;

        // The lane of the endpoint holds 4 × its cap of 8: 32 are handed over, stored leased to this node until the
        // lease's end (5 s here); the other 8 are stored due. The first answers come after half a second.
        (await client.PostAsJsonAsync("/v1/events/batch", new { events = Enumerable.Range(0, 40).Select(i => new { eventType = "call.completed", payload = new { i } }) }))
            .EnsureSuccessStatusCode();
        var stored = await DeliveriesAsync(app, workspace);
        Assert.Equal(40, stored.Count);
        Assert.Equal(32, stored.Count(d => d.LeaseOwner == owner && d.NextAttemptAt > DateTime.UtcNow.AddSeconds(3)));
        Assert.Equal(8, stored.Count(d => d.LeaseOwner is null && d.Status == DeliveryStatus.Pending));

        // Every one is sent once: the handed-over ones by their lane, the others claimed when it has room.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (stored.Any(d => d.Status != DeliveryStatus.Delivered) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            stored = await DeliveriesAsync(app, workspace);
        }

        Assert.All(stored, d => Assert.Equal(DeliveryStatus.Delivered, d.Status));
        Assert.All(stored, d => Assert.True(d.Attempts == 1, $"{d.Attempts} attempts, last error {d.LastError} ({d.LastResponseStatus}, {d.LastDurationMs} ms)"));
        Assert.Equal(40, receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(40, receiver.Requests.Count);
    }
}
