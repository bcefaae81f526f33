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
