using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

public sealed class EventApiTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Theory]
    [InlineData("{\"eventType\": ")]
    [InlineData("""{"payload":{}}""")]
    [InlineData("""{"eventType":"call.completed","payload":[1,2]}""")]
    [InlineData("""{"eventType":"call.completed","payload":"text"}""")]
    [InlineData("""{"eventType":"call.completed"}""")]
    [InlineData("""{"eventType":"Call Completed","payload":{}}""")]
    [InlineData("""{"eventType":"call.completed","channel":"fax","payload":{}}""")]
    [InlineData("""{"eventType":"call.completed","payload":{},"applicationId":"nope"}""")]
    public async Task BadEvent_Gets400_AndStoresNothing(string body)
    {
        var client = await app.ClientAsync(Role.Operator, "ev-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await client.PostAsync("/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await using var db = await app.DbAsync();
        Assert.False(await db.Events.AnyAsync(e => e.Type == "call.completed" && e.WorkspaceId == Guid.Empty));
    }

    [Fact]
    public async Task HugePayload_Is413()
    {
        var client = await app.ClientAsync(Role.Operator, "huge-" + Guid.NewGuid().ToString("N")[..8]);
        var body = JsonSerializer.Serialize(new { eventType = "call.completed", payload = new { blob = new string('x', 1_100_000) } });
        await Envelope.AssertErrorAsync(await client.PostAsync("/v1/events", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge, EnvelopeKind.Code);
    }

    [Fact]
    public async Task Events_FanOutToMaster_Application_AndSubscribedCampaignWebhooks()
    {
        var admin = await app.ClientAsync(Role.Admin, "fan-" + Guid.NewGuid().ToString("N")[..8]);
        (await admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://master.example/h", eventTypes = new[] { "call.completed" } })).EnsureSuccessStatusCode();
        var application = await (await admin.PostAsJsonAsync("/v1/applications", new { name = "a", finishedUrl = "https://app.example/finished" })).Content.ReadFromJsonAsync<JsonElement>();
        var campaign = (await (await admin.PostAsJsonAsync("/api/v1/campaigns", new { name = "c" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data");
        var campaignId = campaign.GetProperty("id").GetString();
        (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaignId}/webhooks", new { url = "https://c1.example/h", events = new[] { "campaign.started" } })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaignId}/webhooks", new { url = "https://c2.example/h", events = new[] { "call.completed" } })).EnsureSuccessStatusCode();

        var completed = await (await admin.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { }, applicationId = application.GetProperty("id").GetString(), campaignId }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(completed.TryGetProperty("deliveryIds", out _), completed.GetRawText());
        Assert.Equal(3, completed.GetProperty("deliveryIds").GetArrayLength());

        var started = await (await admin.PostAsJsonAsync("/v1/events", new { eventType = "campaign.started", payload = new { }, campaignId }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, started.GetProperty("deliveryIds").GetArrayLength());

        await using var db = await app.DbAsync();
        var eventId = completed.GetProperty("eventId").GetString();
        var hosts = await db.Deliveries.Where(d => d.EventId == eventId).Select(d => d.TargetHost).OrderBy(h => h).ToListAsync();
        Assert.Equal(["app.example", "c2.example", "master.example"], hosts);
    }

    [Fact]
    public async Task Viewer_CannotPublish()
    {
        var viewer = await app.ClientAsync(Role.Viewer, "evv-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await viewer.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { } }), HttpStatusCode.Forbidden, EnvelopeKind.Code);
    }
}
