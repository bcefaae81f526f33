using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The read side of the three delivery groups: envelopes, bounds, defaults and errors, against rows in a real SQLite file.</summary>
public sealed class DeliveryReadApiTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static string Workspace() => "read-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Stores <paramref name="count"/> deliveries of one endpoint, one minute apart (newest last), each with one attempt.</summary>
    private async Task<List<Delivery>> SeedAsync(Guid workspaceId, Guid endpointId, EndpointScope scope, int count, DateTime? newest = null, Guid? applicationId = null, Guid? campaignId = null, int status = 200)
    {
        var now = newest ?? DateTime.UtcNow;
        await using var db = await app.DbAsync();
        if (!db.WebhookEndpoints.Any(e => e.Id == endpointId))
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpointId, WorkspaceId = workspaceId, Scope = scope, Url = "https://hooks.example.com/in", SecretProtected = "x", CreatedAt = now, UpdatedAt = now });
        }

        var rows = new List<Delivery>();
        for (var i = 0; i < count; i++)
        {
            var at = now.AddMinutes(i - count + 1);
            var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = workspaceId, Type = i % 2 == 0 ? "call.completed" : "campaign.started", Channel = "voice", PayloadJson = "{}", CreatedAt = at };
            db.Events.Add(evt);
            var delivery = new Delivery
            {
                Id = Guid.CreateVersion7(),
                WorkspaceId = workspaceId,
                EventId = evt.Id,
                EndpointId = endpointId,
                EndpointScope = scope,
                ApplicationId = applicationId,
                CampaignId = campaignId,
                EventType = evt.Type,
                Channel = "voice",
                CallId = $"call_{i}",
                TargetUrl = "https://hooks.example.com/in",
                TargetHost = "hooks.example.com",
                PayloadJson = "{\"id\":\"x\",\"data\":{\"n\":" + i + "}}",
                Status = status < 300 ? DeliveryStatus.Delivered : DeliveryStatus.Failed,
                Attempts = 1,
                LastResponseStatus = status,
                LastError = status < 300 ? null : $"HTTP {status}",
                LastAttemptAt = at,
                CreatedAt = at,
                DeliveredAt = status < 300 ? at : null,
                UpdatedAt = at,
            };
            rows.Add(delivery);
            db.Deliveries.Add(delivery);
            db.DeliveryAttempts.Add(new DeliveryAttempt
            {
                Id = Guid.CreateVersion7(),
                DeliveryId = delivery.Id,
                WorkspaceId = workspaceId,
                EndpointId = endpointId,
                Number = 1,
                Trigger = AttemptTrigger.Initial,
                RequestUrl = delivery.TargetUrl,
                RequestHeadersJson = """{"webhook-id":"x","content-type":"application/json"}""",
                RequestBody = delivery.PayloadJson,
                ResponseStatus = status,
                ResponseBody = $"body {i}",
                ResponseBodySize = 6,
                DurationMs = 40 + i,
                StartedAt = at,
                CompletedAt = at.AddMilliseconds(40 + i),
            });
        }

        await db.SaveChangesAsync();
        await History.RebuildRollupsAsync(db);
        return rows;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();

    [Fact]
    public async Task Account_deliveries_list_newest_first_with_the_reference_fields_and_defaults()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Viewer, Workspace());
        var client = app.ClientWithKey(key);
        var seeded = await SeedAsync(workspaceId, Guid.NewGuid(), EndpointScope.Master, 60);

        var root = Json(await client.GetStringAsync("/v1/webhooks/deliveries"));
        Assert.Equal(["items", "total", "offset", "limit"], Names(root));
        Assert.Equal(60, root.GetProperty("total").GetInt32());
        Assert.Equal(0, root.GetProperty("offset").GetInt32());
        Assert.Equal(50, root.GetProperty("limit").GetInt32());
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(50, items.Count);
        Assert.Equal(["id", "messageId", "eventType", "channel", "status", "httpStatus", "errorMessage", "responseBody", "attemptCount", "lastAttemptAt", "nextRetryAt", "createdAt"], Names(items[0]));
        Assert.Equal(seeded[^1].Id, items[0].GetProperty("id").GetGuid());
        Assert.Equal(seeded[^1].EventId, items[0].GetProperty("messageId").GetString());
        Assert.Equal("delivered", items[0].GetProperty("status").GetString());
        Assert.Equal("body 59", items[0].GetProperty("responseBody").GetString());
        Assert.EndsWith("Z", items[0].GetProperty("createdAt").GetString());

        var last = Json(await client.GetStringAsync("/v1/webhooks/deliveries?limit=100&offset=55"));
        Assert.Equal(5, last.GetProperty("items").GetArrayLength());
        Assert.Equal(seeded[0].Id, last.GetProperty("items")[4].GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Account_deliveries_hours_filters_by_creation_and_other_workspaces_are_invisible()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Viewer, Workspace());
        var client = app.ClientWithKey(key);
        var master = Guid.NewGuid();
        await SeedAsync(workspaceId, master, EndpointScope.Master, 3, DateTime.UtcNow.AddHours(-30));
        await SeedAsync(workspaceId, master, EndpointScope.Master, 2);
        var (_, otherWorkspace) = await app.CreateKeyAsync(Role.Viewer, Workspace());
        await SeedAsync(otherWorkspace, Guid.NewGuid(), EndpointScope.Master, 4);

        Assert.Equal(2, Json(await client.GetStringAsync("/v1/webhooks/deliveries?hours=1")).GetProperty("total").GetInt32());
        Assert.Equal(2, Json(await client.GetStringAsync("/v1/webhooks/deliveries?hours=24")).GetProperty("total").GetInt32());
        Assert.Equal(5, Json(await client.GetStringAsync("/v1/webhooks/deliveries?hours=168")).GetProperty("total").GetInt32());
        Assert.Equal(5, Json(await client.GetStringAsync("/v1/webhooks/deliveries?unknown=1")).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("offset=-1", "offset")]
    [InlineData("hours=0", "hours")]
    [InlineData("hours=169", "hours")]
    [InlineData("hours=1.5", "hours")]
    public async Task Account_deliveries_reject_out_of_range_query_values_with_422(string query, string field)
    {
        var client = await app.ClientAsync(Role.Viewer, Workspace());
        var error = await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/webhooks/deliveries?{query}"), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        Assert.Equal(["query", field], error.GetProperty("detail")[0].GetProperty("loc").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Account_deliveries_need_a_key()
    {
        using var anonymous = app.CreateClient();
        await Envelope.AssertErrorAsync(await anonymous.GetAsync("/v1/webhooks/deliveries"), HttpStatusCode.Unauthorized, EnvelopeKind.Detail);
    }

    private async Task<(HttpClient Client, Guid WorkspaceId, string ApplicationId, Guid EndpointId)> ApplicationAsync()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, Workspace());
        var client = app.ClientWithKey(key);
        var created = Json(await (await client.PostAsJsonAsync("/v1/applications", new { name = "cdr", finishedUrl = "http://127.0.0.1:9/cdr" })).Content.ReadAsStringAsync());
        var applicationId = created.GetProperty("id").GetString()!;
        await using var db = await app.DbAsync();
        var endpointId = db.WebhookEndpoints.Single(e => e.ApplicationId == Guid.Parse(applicationId)).Id;
        return (client, workspaceId, applicationId, endpointId);
    }

    [Fact]
    public async Task Application_deliveries_page_with_defaults_cap_and_totals()
    {
        var (client, workspaceId, applicationId, endpointId) = await ApplicationAsync();
        var seeded = await SeedAsync(workspaceId, endpointId, EndpointScope.Application, 45, applicationId: Guid.Parse(applicationId), status: 503);
        await SeedAsync(workspaceId, Guid.NewGuid(), EndpointScope.Master, 5);

        var first = Json(await client.GetStringAsync($"/v1/applications/{applicationId}/deliveries"));
        Assert.Equal(["data", "pagination"], Names(first));
        Assert.Equal(["page", "limit", "totalItems", "totalPages"], Names(first.GetProperty("pagination")));
        Assert.Equal(1, first.GetProperty("pagination").GetProperty("page").GetInt32());
        Assert.Equal(20, first.GetProperty("pagination").GetProperty("limit").GetInt32());
        Assert.Equal(45, first.GetProperty("pagination").GetProperty("totalItems").GetInt32());
        Assert.Equal(3, first.GetProperty("pagination").GetProperty("totalPages").GetInt32());
        var item = first.GetProperty("data")[0];
        Assert.Equal(["id", "eventType", "eventId", "status", "attempts", "responseStatus", "lastError", "nextAttemptAt", "createdAt", "deliveredAt"], Names(item));
        Assert.Equal(seeded[^1].Id, item.GetProperty("id").GetGuid());
        Assert.Equal("failed", item.GetProperty("status").GetString());
        Assert.Equal(503, item.GetProperty("responseStatus").GetInt32());

        var capped = Json(await client.GetStringAsync($"/v1/applications/{applicationId}/deliveries?limit=500"));
        Assert.Equal(100, capped.GetProperty("pagination").GetProperty("limit").GetInt32());
        Assert.Equal(45, capped.GetProperty("data").GetArrayLength());
        var third = Json(await client.GetStringAsync($"/v1/applications/{applicationId}/deliveries?page=3"));
        Assert.Equal(5, third.GetProperty("data").GetArrayLength());
        Assert.Equal(0, Json(await client.GetStringAsync($"/v1/applications/{applicationId}/deliveries?page=9")).GetProperty("data").GetArrayLength());
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("page=-1")]
    [InlineData("page=x")]
    [InlineData("limit=0")]
    [InlineData("limit=-5")]
    [InlineData("limit=2.5")]
    public async Task Application_deliveries_reject_bad_paging_with_400(string query)
    {
        var (client, _, applicationId, _) = await ApplicationAsync();
        await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/applications/{applicationId}/deliveries?{query}"), HttpStatusCode.BadRequest, EnvelopeKind.Code);
    }

    [Fact]
    public async Task Application_deliveries_ids_are_checked_and_scoped()
    {
        var (client, workspaceId, applicationId, endpointId) = await ApplicationAsync();
        var seeded = await SeedAsync(workspaceId, endpointId, EndpointScope.Application, 1, applicationId: Guid.Parse(applicationId));
        var master = await SeedAsync(workspaceId, Guid.NewGuid(), EndpointScope.Master, 1);
        await Envelope.AssertErrorAsync(await client.GetAsync("/v1/applications/nope/deliveries"), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/applications/{Guid.NewGuid()}/deliveries"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/applications/{applicationId}/deliveries/nope"), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/applications/{applicationId}/deliveries/{master[0].Id}"), HttpStatusCode.NotFound, EnvelopeKind.Code);

        var other = await app.ClientAsync(Role.Admin, Workspace());
        await Envelope.AssertErrorAsync(await other.GetAsync($"/v1/applications/{applicationId}/deliveries"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await other.GetAsync($"/v1/applications/{applicationId}/deliveries/{seeded[0].Id}"), HttpStatusCode.NotFound, EnvelopeKind.Code);

        var detail = Json(await client.GetStringAsync($"/v1/applications/{applicationId}/deliveries/{seeded[0].Id}"));
        Assert.Equal(["id", "eventType", "eventId", "status", "attempts", "responseStatus", "lastError", "nextAttemptAt", "createdAt", "deliveredAt", "callId", "targetUrl", "requestHeaders", "payload", "responseBody"], Names(detail));
        Assert.Equal(JsonValueKind.Object, detail.GetProperty("requestHeaders").ValueKind);
        Assert.Equal("x", detail.GetProperty("requestHeaders").GetProperty("webhook-id").GetString());
        Assert.Equal(0, detail.GetProperty("payload").GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal("body 0", detail.GetProperty("responseBody").GetString());
        Assert.Equal("call_0", detail.GetProperty("callId").GetString());
    }

    private async Task<(HttpClient Client, Guid WorkspaceId, string CampaignId, string WebhookId)> CampaignWebhookAsync()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, Workspace());
        var client = app.ClientWithKey(key);
        var campaign = Json(await (await client.PostAsJsonAsync("/api/v1/campaigns", new { name = "spring" })).Content.ReadAsStringAsync()).GetProperty("data").GetProperty("id").GetString()!;
        var webhook = Json(await (await client.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/webhooks", new { url = "http://127.0.0.1:9/c", events = new[] { "campaign.started" } })).Content.ReadAsStringAsync())
            .GetProperty("data").GetProperty("id").GetString()!;
        return (client, workspaceId, campaign, webhook);
    }

    [Fact]
    public async Task Campaign_webhook_logs_list_attempts_newest_first_in_the_success_envelope()
    {
        var (client, workspaceId, campaignId, webhookId) = await CampaignWebhookAsync();
        await SeedAsync(workspaceId, Guid.Parse(webhookId), EndpointScope.Campaign, 30, campaignId: Guid.Parse(campaignId));
        var failed = await SeedAsync(workspaceId, Guid.Parse(webhookId), EndpointScope.Campaign, 1, DateTime.UtcNow.AddMinutes(5), campaignId: Guid.Parse(campaignId), status: 500);

        var root = Json(await client.GetStringAsync($"/api/v1/campaigns/{campaignId}/webhooks/{webhookId}/logs"));
        Assert.Equal(["success", "data", "pagination"], Names(root));
        Assert.True(root.GetProperty("success").GetBoolean());
        Assert.Equal(["current_page", "per_page", "total"], Names(root.GetProperty("pagination")));
        Assert.Equal(25, root.GetProperty("pagination").GetProperty("per_page").GetInt32());
        Assert.Equal(31, root.GetProperty("pagination").GetProperty("total").GetInt32());
        Assert.Equal(25, root.GetProperty("data").GetArrayLength());
        var newest = root.GetProperty("data")[0];
        Assert.Equal(["id", "event", "attempt", "status", "http_status", "duration_ms", "delivered_at", "created_at"], Names(newest));
        Assert.Equal("failed", newest.GetProperty("status").GetString());
        Assert.Equal(500, newest.GetProperty("http_status").GetInt32());
        Assert.Equal(JsonValueKind.Null, newest.GetProperty("delivered_at").ValueKind);
        Assert.Equal(failed[0].EventType, newest.GetProperty("event").GetString());
        Assert.Equal("success", root.GetProperty("data")[1].GetProperty("status").GetString());

        var second = Json(await client.GetStringAsync($"/api/v1/campaigns/{campaignId}/webhooks/{webhookId}/logs?page=2&per_page=25"));
        Assert.Equal(6, second.GetProperty("data").GetArrayLength());
        Assert.Equal(2, second.GetProperty("pagination").GetProperty("current_page").GetInt32());
    }

    [Theory]
    [InlineData("per_page=0")]
    [InlineData("per_page=101")]
    [InlineData("page=0")]
    [InlineData("page=abc")]
    public async Task Campaign_webhook_logs_reject_bad_paging(string query)
    {
        var (client, _, campaignId, webhookId) = await CampaignWebhookAsync();
        await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/campaigns/{campaignId}/webhooks/{webhookId}/logs?{query}"), HttpStatusCode.BadRequest, EnvelopeKind.SuccessFalse);
    }

    [Fact]
    public async Task Campaign_webhook_logs_are_404_for_unknown_or_foreign_ids()
    {
        var (client, _, campaignId, webhookId) = await CampaignWebhookAsync();
        var (_, _, otherCampaign, otherWebhook) = await CampaignWebhookAsync();
        await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/campaigns/{campaignId}/webhooks/{Guid.NewGuid()}/logs"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/campaigns/{campaignId}/webhooks/{otherWebhook}/logs"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/campaigns/{otherCampaign}/webhooks/{otherWebhook}/logs"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/campaigns/not-a-uuid/webhooks/{webhookId}/logs"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
    }
}
