using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The engine end to end: POST /v1/events, real HTTP to a Kestrel receiver on 127.0.0.1, real Hangfire jobs.</summary>
public sealed class DeliveryEngineTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private async Task<(HttpClient Client, string Secret)> WorkspaceWithWebhookAsync(string url)
    {
        var client = await app.ClientAsync(Role.Admin, "eng-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await client.PostAsJsonAsync("/v1/webhooks", new { url });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (client, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!);
    }

    private static async Task<Guid> PublishAsync(HttpClient client, object payload)
    {
        var response = await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("evt_", body.GetProperty("eventId").GetString());
        return Guid.Parse(body.GetProperty("deliveryIds")[0].GetString()!);
    }

    private Task<Delivery> WaitForFinalAsync(Guid deliveryId, TimeSpan? timeout = null) =>
        app.WaitForDeliveryAsync(deliveryId, d => d.Status != DeliveryStatus.Pending, timeout);

    private async Task<List<DeliveryAttempt>> AttemptsAsync(Guid deliveryId)
    {
        await using var db = await app.DbAsync();
        return await db.DeliveryAttempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Number).ToListAsync();
    }

    [Fact]
    public async Task FailFailSucceed_IsDeliveredAfterThreeAttempts_SignedWithTheSecret()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Respond(500, 500, 200);
        var (client, secret) = await WorkspaceWithWebhookAsync(receiver.Url);

        var id = await PublishAsync(client, new { call = new { id = "call_1", duration = 42 } });
        var delivery = await WaitForFinalAsync(id);

        Assert.Equal(DeliveryStatus.Delivered, delivery.Status);
        Assert.Equal(3, delivery.Attempts);
        Assert.NotNull(delivery.DeliveredAt);
        var attempts = await AttemptsAsync(id);
        Assert.Equal([500, 500, 200], attempts.Select(a => a.ResponseStatus ?? 0));
        Assert.Equal([AttemptTrigger.Initial, AttemptTrigger.Retry, AttemptTrigger.Retry], attempts.Select(a => a.Trigger));
        Assert.Equal([AttemptErrorClass.HttpStatus, AttemptErrorClass.HttpStatus, AttemptErrorClass.None], attempts.Select(a => a.ErrorClass));
        Assert.All(attempts, a => Assert.Equal(receiver.Url, a.RequestUrl));
        Assert.Equal("""{"ok":true}""", attempts[2].ResponseBody);

        // The receiver checks every request the way a customer would.
        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        foreach (var request in requests)
        {
            var timestamp = long.Parse(request.Headers["webhook-timestamp"]);
            Assert.True(WebhookSignature.Verify(secret, request.Headers["webhook-id"], timestamp, request.Body, request.Headers["webhook-signature"]));
            Assert.False(WebhookSignature.Verify("whsec_" + Convert.ToBase64String(new byte[24]), request.Headers["webhook-id"], timestamp, request.Body, request.Headers["webhook-signature"]));
            Assert.Equal(delivery.EventId, request.Headers["webhook-id"]);
            Assert.Equal(42, JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("call").GetProperty("duration").GetInt32());
        }

        Assert.Equal(requests[0].Body, attempts[0].RequestBody);
        Assert.Contains("\"webhook-signature\":\"v1,", attempts[0].RequestHeadersJson);
    }

    [Fact]
    public async Task Always500_FailsAfterTheConfiguredSixAttempts()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Respond(500);
        var (client, _) = await WorkspaceWithWebhookAsync(receiver.Url);

        var id = await PublishAsync(client, new { n = 1 });
        var delivery = await WaitForFinalAsync(id);

        Assert.Equal(DeliveryStatus.Failed, delivery.Status);
        Assert.Equal(6, delivery.Attempts);
        Assert.Null(delivery.NextAttemptAt);
        Assert.Equal(500, delivery.LastResponseStatus);
        Assert.Equal(6, (await AttemptsAsync(id)).Count);
        await Task.Delay(600);
        Assert.Equal(6, receiver.Requests.Count);
    }

    [Fact]
    public async Task Timeout_And_ConnectionRefused_AreRecordedAsSuch()
    {
        await using var slow = await Receiver.StartAsync();
        slow.Then(200, TimeSpan.FromSeconds(3)).Then(200);
        var (client, _) = await WorkspaceWithWebhookAsync(slow.Url);
        var id = await PublishAsync(client, new { n = 1 });
        var delivered = await WaitForFinalAsync(id);
        var first = (await AttemptsAsync(id))[0];
        Assert.Equal(AttemptErrorClass.Timeout, first.ErrorClass);
        Assert.Null(first.ResponseStatus);
        Assert.InRange(first.DurationMs, 900, 2500);
        Assert.StartsWith("Timed out", first.Error);
        Assert.Equal(DeliveryStatus.Delivered, delivered.Status);

        string closedUrl;
        await using (var gone = await Receiver.StartAsync())
        {
            closedUrl = gone.Url;
        }

        var (refusedClient, _) = await WorkspaceWithWebhookAsync(closedUrl);
        var refusedId = await PublishAsync(refusedClient, new { n = 2 });
        await WaitForAttemptsAsync(refusedId, 1);
        var refused = (await AttemptsAsync(refusedId))[0];
        Assert.Equal(AttemptErrorClass.ConnectionRefused, refused.ErrorClass);
        Assert.Null(refused.ResponseStatus);
    }

    [Fact]
    public async Task Gone410_DisablesTheEndpointAtOnce_AndNewEventsStopFanningOut()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Respond(410);
        var (client, _) = await WorkspaceWithWebhookAsync(receiver.Url);
        var id = await PublishAsync(client, new { n = 1 });
        var delivery = await WaitForFinalAsync(id);
        Assert.Equal(DeliveryStatus.Failed, delivery.Status);
        Assert.Equal(1, delivery.Attempts);

        var webhook = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks");
        Assert.Equal("disabled", webhook.GetProperty("status").GetString());
        var next = await (await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, next.GetProperty("deliveryIds").GetArrayLength());
    }

    [Fact]
    public async Task EndpointThatKeepsFailing_IsDisabledAfterTwentyFailedDeliveries_WithTheReason()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Respond(503);
        var (client, _) = await WorkspaceWithWebhookAsync(receiver.Url);
        var ids = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await PublishAsync(client, new { i }));
        }

        foreach (var id in ids)
        {
            Assert.Equal(DeliveryStatus.Failed, (await WaitForFinalAsync(id, TimeSpan.FromSeconds(30))).Status);
        }

        var webhook = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks");
        Assert.Equal("disabled", webhook.GetProperty("status").GetString());
        await using var db = await app.DbAsync();
        var endpoint = await db.WebhookEndpoints.SingleAsync(e => e.Id == Guid.Parse(webhook.GetProperty("id").GetString()!));
        Assert.Contains("Every delivery of the last 24 h failed", endpoint.DisabledReason);
        Assert.True(endpoint.ConsecutiveFailures >= 20 * 6);
    }

    [Fact]
    public async Task LargeResponseBody_IsTruncatedTo64KiB_AndItsSizeKept()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, body: new string('x', 100_000));
        var (client, _) = await WorkspaceWithWebhookAsync(receiver.Url);
        var id = await PublishAsync(client, new { n = 1 });
        await WaitForFinalAsync(id);
        var attempt = (await AttemptsAsync(id)).Single();
        Assert.Equal(64 * 1024, attempt.ResponseBody!.Length);
        Assert.Equal(100_000, attempt.ResponseBodySize);
    }

    private async Task WaitForAttemptsAsync(Guid deliveryId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await AttemptsAsync(deliveryId)).Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }
}
