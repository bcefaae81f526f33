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

    private static string Padded(int bytes) => "{\"eventType\": \"batch.test\", \"payload\": {\"pad\": \"" + new string('x', bytes) + "\"}}";

    private static HttpContent Batch(IEnumerable<string> events, bool chunked = false)
    {
        var content = new StringContent("{\"events\": [" + string.Join(",", events) + "]}", Encoding.UTF8, "application/json");
        // Chunked: no Content-Length, the console sees the size only while reading.
        return chunked ? UnsizedContent.Of(content) : content;
    }

    /// <summary>A refused batch: 413, the events group's envelope with the items it blames.</summary>
    private static async Task<JsonElement> TooLargeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {text[..Math.Min(500, text.Length)]}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["code", "error", "items"], root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("PAYLOAD_TOO_LARGE", root.GetProperty("code").GetString());
        Assert.Contains("nothing was stored", root.GetProperty("error").GetString());
        return root;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_event_over_1_MiB_in_a_batch_is_a_413_naming_its_index_and_nothing_is_stored(bool chunked)
    {
        var (client, workspace) = await WorkspaceWithWebhookAsync();

        // A 1.5 MB event among ten: the batch is within 4 MiB, its seventh event is not within 1 MiB.
        var ten = Enumerable.Range(0, 10).Select(i => i == 6 ? Padded(1_500_000) : Padded(100));
        var response = await client.PostAsync("/v1/events/batch", Batch(ten, chunked));
        var error = await TooLargeAsync(response);
        var items = error.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([6], items.Select(i => i.GetProperty("index").GetInt32()));
        Assert.Contains("1 MiB", items[0].GetProperty("error").GetString());

        // One event of 5 MiB: the batch is over 4 MiB too; the event is named all the same.
        response = await client.PostAsync("/v1/events/batch", Batch([Padded(5 * 1024 * 1024)], chunked));
        error = await TooLargeAsync(response);
        Assert.Contains("4 MiB", error.GetProperty("error").GetString());
        Assert.Equal([0], error.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index").GetInt32()));

        // Many small events over 4 MiB together: too large, no event to blame.
        response = await client.PostAsync("/v1/events/batch", Batch(Enumerable.Range(0, 600).Select(_ => Padded(8_000)), chunked));
        error = await TooLargeAsync(response);
        Assert.Empty(error.GetProperty("items").EnumerateArray());

        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Events.CountAsync(e => e.WorkspaceId == workspace));
        Assert.Equal(0, await db.Deliveries.CountAsync(d => d.WorkspaceId == workspace));
    }

    [Fact]
    public async Task Events_of_up_to_1_MiB_in_a_batch_of_up_to_4_MiB_are_published()
    {
        var (client, workspace) = await WorkspaceWithWebhookAsync();
        // Three events just under 1 MiB each (the event object, as POST /v1/events would take it).
        var overhead = Encoding.UTF8.GetByteCount(Padded(0));
        var response = await client.PostAsync("/v1/events/batch", Batch(Enumerable.Range(0, 3).Select(_ => Padded(1024 * 1024 - overhead))));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await using var db = await app.DbAsync();
        Assert.Equal(3, await db.Events.CountAsync(e => e.WorkspaceId == workspace));

        // The same event one byte larger is refused, alone (POST /v1/events) and in a batch.
        var single = new StringContent(Padded(1024 * 1024 - overhead + 1), Encoding.UTF8, "application/json");
        await Envelope.AssertErrorAsync(await client.PostAsync("/v1/events", single), HttpStatusCode.RequestEntityTooLarge, EnvelopeKind.Code);
        var refused = await TooLargeAsync(await client.PostAsync("/v1/events/batch", Batch([Padded(1024 * 1024 - overhead + 1)])));
        Assert.Equal([0], refused.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index").GetInt32()));
        Assert.Equal(3, await db.Events.CountAsync(e => e.WorkspaceId == workspace));
    }
}
