using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

public sealed class ResendAndTestTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private Task<Delivery> WaitAsync(Guid id, Func<Delivery, bool> done) => app.WaitForDeliveryAsync(id, done);

    private static string RecordingUrl(ReceivedRequest request) =>
        JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("call").GetProperty("recording_url").GetString()!;

    [Fact]
    public async Task Resend_MakesANewAttempt_WithAFreshlySignedRecordingUrl()
    {
        await using var receiver = await Receiver.StartAsync();
        var (adminKey, workspaceId) = await app.CreateKeyAsync(Role.Admin, "resend-" + Guid.NewGuid().ToString("N")[..8]);
        var admin = app.ClientWithKey(adminKey);
        var callId = await app.AddCallAsync(workspaceId);
        var application = await (await admin.PostAsJsonAsync("/v1/applications", new { name = "cdr", finishedUrl = receiver.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var applicationId = application.GetProperty("id").GetString();
        var published = await (await admin.PostAsJsonAsync("/v1/events", new
        {
            eventType = "call.completed",
            callId,
            applicationId,
            payload = new { call = new { id = callId, recording_url = "stale" } },
        })).Content.ReadFromJsonAsync<JsonElement>();
        var deliveryId = Guid.Parse(published.GetProperty("deliveryIds")[0].GetString()!);
        await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered);

        var first = RecordingUrl(receiver.Requests.Single());
        var signer = app.Service<RecordingLinkSigner>();
        Assert.Equal(workspaceId, signer.WorkspaceOf(callId, HttpUtility.ParseQueryString(new Uri(first).Query)["token"]!));

        var operatorClient = await app.ClientAsync(Role.Operator, "resend-op-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.PostAsync($"/v1/applications/{applicationId}/deliveries/{deliveryId}/resend", null)).StatusCode);
        var response = await admin.PostAsync($"/v1/applications/{applicationId}/deliveries/{deliveryId}/resend", null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, response.Content.Headers.ContentLength ?? 0);

        var resent = await WaitAsync(deliveryId, d => d.Status == DeliveryStatus.Delivered && d.Attempts == 1 && receiver.Requests.Count == 2);
        Assert.Equal(DeliveryStatus.Delivered, resent.Status);
        var second = RecordingUrl(receiver.Requests.Last());
        Assert.NotEqual(first, second);
        Assert.Equal(workspaceId, signer.WorkspaceOf(callId, HttpUtility.ParseQueryString(new Uri(second).Query)["token"]!));
        Assert.Null(signer.WorkspaceOf("call_other", HttpUtility.ParseQueryString(new Uri(second).Query)["token"]!));
        Assert.Equal(second, RecordingUrl(new ReceivedRequest("", new Dictionary<string, string>(), resent.PayloadJson, DateTime.UtcNow)));

        await using var db = await app.DbAsync();
        var attempts = await db.DeliveryAttempts.Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Number).ToListAsync();
        Assert.Equal([AttemptTrigger.Initial, AttemptTrigger.Resend], attempts.Select(a => a.Trigger));
        Assert.Contains(await db.AuditEntries.Where(a => a.TargetId == deliveryId.ToString()).Select(a => a.Action).ToListAsync(), a => a == "delivery.resent");
    }

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

    [Fact]
    public async Task Resend_BadIds_AreBadRequest_And_ViewerIsForbidden()
    {
        var viewer = await app.ClientAsync(Role.Viewer, "rv-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await viewer.PostAsync($"/v1/applications/{Guid.NewGuid()}/deliveries/{Guid.NewGuid()}/resend", null), HttpStatusCode.Forbidden, EnvelopeKind.Code);
        var admin = await app.ClientAsync(Role.Admin, "rb-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await admin.PostAsync($"/v1/applications/not-a-uuid/deliveries/{Guid.NewGuid()}/resend", null), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await admin.PostAsync($"/v1/applications/{Guid.NewGuid()}/deliveries/nope/resend", null), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await admin.PostAsync($"/v1/applications/{Guid.NewGuid()}/deliveries/{Guid.NewGuid()}/resend", null), HttpStatusCode.NotFound, EnvelopeKind.Code);
    }

    [Fact]
    public async Task WebhookTest_SendsNow_AndAnswersWithTheOutcome()
    {
        var admin = await app.ClientAsync(Role.Admin, "wt-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await admin.PostAsync("/v1/webhooks/test", null), HttpStatusCode.NotFound, EnvelopeKind.Detail);

        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, body: """{"received":"yes"}""").Then(500, body: "boom");
        (await admin.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();

        var ok = await (await admin.PostAsync("/v1/webhooks/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["deliveryId", "durationMs", "errorMessage", "httpStatus", "responseBody", "success"], ok.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(ok.GetProperty("success").GetBoolean());
        Assert.Equal(200, ok.GetProperty("httpStatus").GetInt32());
        Assert.Equal("""{"received":"yes"}""", ok.GetProperty("responseBody").GetString());
        Assert.Equal("webhook.test", JsonDocument.Parse(receiver.Requests.Single().Body).RootElement.GetProperty("type").GetString());

        var failed = await (await admin.PostAsync("/v1/webhooks/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(failed.GetProperty("success").GetBoolean());
        Assert.Equal(500, failed.GetProperty("httpStatus").GetInt32());
        Assert.StartsWith("HTTP 500", failed.GetProperty("errorMessage").GetString());

        await using var db = await app.DbAsync();
        var delivery = await db.Deliveries.SingleAsync(d => d.Id == Guid.Parse(failed.GetProperty("deliveryId").GetString()!));
        Assert.Equal(DeliveryStatus.Failed, delivery.Status);
        Assert.Null(delivery.LeaseOwner);
        Assert.Equal(AttemptTrigger.Test, (await db.DeliveryAttempts.SingleAsync(a => a.DeliveryId == delivery.Id)).Trigger);
    }
}
