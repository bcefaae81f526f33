using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>POST /v1/events/batch: up to 1,000 events, all or nothing, ids in the order sent.</summary>
public sealed class EventBatchTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private async Task<(HttpClient Client, Guid Workspace)> WorkspaceWithWebhookAsync()
    {
        var (key, workspace) = await app.CreateKeyAsync(Role.Admin, "batch-" + Guid.NewGuid().ToString("N")[..8]);
        var client = app.ClientWithKey(key);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/in" })).EnsureSuccessStatusCode();
        return (client, workspace);
    }

    [Fact]
    public async Task A_batch_publishes_every_event_in_order_with_one_audit_entry()
    {
        var (client, workspace) = await WorkspaceWithWebhookAsync();
        var events = Enumerable.Range(0, 300).Select(i => new { eventType = i % 2 == 0 ? "call.completed" : "campaign.started", payload = new { n = i } }).ToArray();
        var response = await client.PostAsJsonAsync("/v1/events/batch", new { events });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answered = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(300, answered.Count);
        Assert.All(answered, e => Assert.Equal(["eventId", "deliveryIds"], e.EnumerateObject().Select(p => p.Name)));

        await using var db = await app.DbAsync();
        var stored = await db.Events.Where(e => e.WorkspaceId == workspace).ToDictionaryAsync(e => e.Id);
        Assert.Equal(300, stored.Count);
        for (var i = 0; i < answered.Count; i++)
        {
            var evt = stored[answered[i].GetProperty("eventId").GetString()!];
            Assert.Equal(i, JsonDocument.Parse(evt.PayloadJson).RootElement.GetProperty("n").GetInt32());
            Assert.Equal(1, answered[i].GetProperty("deliveryIds").GetArrayLength());
        }

        Assert.Equal(300, await db.Deliveries.CountAsync(d => d.WorkspaceId == workspace));
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.WorkspaceId == workspace && a.Action == "events.published"));
    }

    [Fact]
    public async Task Any_invalid_item_is_a_400_naming_every_bad_index_and_nothing_is_stored()
    {
        var (client, workspace) = await WorkspaceWithWebhookAsync();
        var body = """
            {"events": [
              {"eventType": "call.completed", "payload": {}},
              {"eventType": "Not An Event", "payload": {}},
              {"eventType": "call.completed"},
              "not an object",
              {"eventType": "call.completed", "payload": {}, "applicationId": "nope"}
            ]}
            """;
        var response = await client.PostAsync("/v1/events/batch", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var root = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("BAD_REQUEST", root.GetProperty("code").GetString());
        Assert.Contains("nothing was stored", root.GetProperty("error").GetString());
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4], items.Select(i => i.GetProperty("index").GetInt32()));
        Assert.Contains("eventType", items[0].GetProperty("error").GetString());
        Assert.Contains("payload", items[1].GetProperty("error").GetString());
        Assert.Contains("applicationId", items[3].GetProperty("error").GetString());

        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Events.CountAsync(e => e.WorkspaceId == workspace));
    }

    [Fact]
    public async Task Bounds_and_foreign_ids_refuse_the_whole_batch()
    {
        var (client, workspace) = await WorkspaceWithWebhookAsync();
        await Envelope.AssertErrorAsync(await client.PostAsJsonAsync("/v1/events/batch", new { events = Array.Empty<object>() }), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        var tooMany = Enumerable.Range(0, 1001).Select(_ => new { eventType = "call.completed", payload = new { } });
        await Envelope.AssertErrorAsync(await client.PostAsJsonAsync("/v1/events/batch", new { events = tooMany }), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.PostAsJsonAsync("/v1/events/batch", new { events = "x" }), HttpStatusCode.BadRequest, EnvelopeKind.Code);

        var (_, other) = await app.CreateKeyAsync(Role.Admin, "batch-other-" + Guid.NewGuid().ToString("N")[..8]);
        var foreignCall = await app.AddCallAsync(other);
        var response = await client.PostAsJsonAsync("/v1/events/batch", new
        {
            events = new object[]
            {
                new { eventType = "call.completed", payload = new { } },
                new { eventType = "call.completed", payload = new { }, callId = foreignCall },
            },
        });
        var error = await Envelope.AssertErrorAsync(response, HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Contains("events[1]", error.GetProperty("error").GetString());

        var viewer = app.ClientWithKey((await app.CreateKeyAsync(Role.Viewer, "batch-viewer-" + Guid.NewGuid().ToString("N")[..8])).Key);
        await Envelope.AssertErrorAsync(await viewer.PostAsJsonAsync("/v1/events/batch", new { events = new[] { new { eventType = "call.completed", payload = new { } } } }), HttpStatusCode.Forbidden, EnvelopeKind.Code);

        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Events.CountAsync(e => e.WorkspaceId == workspace));
    }
}
