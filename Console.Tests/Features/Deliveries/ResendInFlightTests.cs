using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The engine's test settings, but a send held open by the receiver neither times out nor loses its lease while a test waits.</summary>
public sealed class HeldSendFactory : EngineAppFactory
{
    protected override IEnumerable<KeyValuePair<string, string?>> More =>
    [
        new("Delivery:Timeout", "00:00:30"),
        new("Delivery:Lease", "00:01:00"),
    ];
}

/// <summary>
/// A resend, a replay or twenty resends at once while a send of the delivery is in flight: never
/// two sends of one delivery at the same moment, the first result recorded, then one more send.
/// </summary>
public sealed class ResendInFlightTests(HeldSendFactory app) : IClassFixture<HeldSendFactory>
{
    private Task<Delivery> WaitAsync(Guid id, Func<Delivery, bool> done) => app.WaitForDeliveryAsync(id, done);

    /// <summary>An application with the receiver as its finishedUrl, and one event published to it: (admin client, application id, delivery id).</summary>
    private async Task<(HttpClient Admin, string ApplicationId, Guid DeliveryId)> PublishToAsync(Receiver receiver)
    {
        var (adminKey, _) = await app.CreateKeyAsync(Role.Admin, "inflight-" + Guid.NewGuid().ToString("N")[..8]);
        var admin = app.ClientWithKey(adminKey);
        var application = await (await admin.PostAsJsonAsync("/v1/applications", new { name = "held", finishedUrl = receiver.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var applicationId = application.GetProperty("id").GetString()!;
        var published = await (await admin.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", applicationId, payload = new { n = 1 } })).Content.ReadFromJsonAsync<JsonElement>();
        return (admin, applicationId, Guid.Parse(published.GetProperty("deliveryIds")[0].GetString()!));
    }

    private static async Task RequestsAsync(Receiver receiver, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (receiver.Requests.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(count, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_resend_while_the_send_is_in_flight_waits_for_its_attempt_then_sends_once_more()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Hold();
        var (admin, applicationId, deliveryId) = await PublishToAsync(receiver);
        await RequestsAsync(receiver, 1);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/v1/applications/{applicationId}/deliveries/{deliveryId}/resend", null)).StatusCode);
        await Task.Delay(700);
        Assert.Single(receiver.Requests);

        receiver.Release();
        var resent = await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered && receiver.Requests.Count == 2);
        await Task.Delay(500);
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(1, receiver.MaxInFlight);
        Assert.Equal(1, resent.Attempts);
        Assert.Null(resent.ResendRequestedAt);
        await using var db = await app.DbAsync();
        var attempts = await db.DeliveryAttempts.Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Number).ToListAsync();
        Assert.Equal([AttemptTrigger.Initial, AttemptTrigger.Resend], attempts.Select(a => a.Trigger));
        Assert.All(attempts, a => Assert.Equal(200, a.ResponseStatus));
    }

    [Fact]
    public async Task A_replay_that_meets_a_delivery_in_flight_sends_it_once_more_after_its_attempt_is_recorded()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Hold();
        var (_, _, deliveryId) = await PublishToAsync(receiver);
        await RequestsAsync(receiver, 1);
        await using (var db = await app.DbAsync())
        {
            var workspace = await db.Deliveries.Where(d => d.Id == deliveryId).Select(d => d.WorkspaceId).SingleAsync();
            // What a replay run does with each page of the deliveries it matched.
            Assert.Equal(1, await app.Service<ResendService>().ResendManyAsync(Caller.System(workspace, "Support engineer"), [deliveryId], "deliveries.replayed"));
        }

        await Task.Delay(700);
        Assert.Single(receiver.Requests);
        receiver.Release();
        await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered && receiver.Requests.Count == 2);
        await Task.Delay(500);
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(1, receiver.MaxInFlight);
    }

    [Fact]
    public async Task Twenty_concurrent_resends_of_one_delivery_give_one_new_send_and_each_answers_204()
    {
        await using var receiver = await Receiver.StartAsync();
        var (admin, applicationId, deliveryId) = await PublishToAsync(receiver);
        await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered);
        await RequestsAsync(receiver, 1);

        // The resend's send is held open until every resend has been answered: those that come
        // after it has begun join it, those before it find the delivery already pending.
        receiver.Hold();
        var clients = Enumerable.Range(0, 20).Select(_ => app.ClientWithKey(admin.DefaultRequestHeaders.Authorization!.Parameter!)).ToList();
        var answers = await Task.WhenAll(clients.Select(c => c.PostAsync($"/v1/applications/{applicationId}/deliveries/{deliveryId}/resend", null)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
        await RequestsAsync(receiver, 2);
        receiver.Release();
        await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered && receiver.Requests.Count == 2);
        await Task.Delay(1000);
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(1, receiver.MaxInFlight);
    }
}
