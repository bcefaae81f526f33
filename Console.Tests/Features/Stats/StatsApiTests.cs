using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Stats;

/// <summary>GET /v1/webhooks/deliveries/stats and …/all-time: envelope, defaults, bounds, errors.</summary>
public sealed class StatsApiTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();

    private async Task<(HttpClient Client, Guid WorkspaceId)> WorkspaceAsync()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Viewer, "stats-" + Guid.NewGuid().ToString("N")[..8]);
        return (app.ClientWithKey(key), workspaceId);
    }

    private async Task SeedAsync(Guid workspaceId, params (int HoursAgo, DeliveryStatus Status, string Type, int DurationMs)[] rows)
    {
        var now = DateTime.UtcNow;
        var endpoint = new WebhookEndpoint { Id = Guid.NewGuid(), WorkspaceId = workspaceId, Scope = EndpointScope.Master, Url = "https://h.example.com/", SecretProtected = "x", CreatedAt = now, UpdatedAt = now };
        await using var db = await app.DbAsync();
        db.WebhookEndpoints.Add(endpoint);
        foreach (var (hoursAgo, status, type, duration) in rows)
        {
            var at = now.AddHours(-hoursAgo);
            var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = workspaceId, Type = type, Channel = "voice", PayloadJson = "{}", CreatedAt = at };
            db.Events.Add(evt);
            var delivery = new Delivery
            {
                Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, EventId = evt.Id, EndpointId = endpoint.Id, EventType = type, Channel = "voice",
                TargetUrl = endpoint.Url, TargetHost = "h.example.com", PayloadJson = "{}", Status = status, Attempts = 1, CreatedAt = at, UpdatedAt = at,
            };
            db.Deliveries.Add(delivery);
            db.DeliveryAttempts.Add(new DeliveryAttempt
            {
                Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, WorkspaceId = workspaceId, EndpointId = endpoint.Id, Number = 1, RequestUrl = endpoint.Url,
                RequestHeadersJson = "{}", RequestBody = "{}", ResponseStatus = status == DeliveryStatus.Delivered ? 200 : 500, DurationMs = duration, StartedAt = at, CompletedAt = at,
            });
        }

        await db.SaveChangesAsync();
        await History.RebuildRollupsAsync(db);
    }

    [Fact]
    public async Task Stats_default_to_24_hours_with_every_hour_present_and_the_reference_fields()
    {
        var (client, workspaceId) = await WorkspaceAsync();
        await SeedAsync(workspaceId,
            (0, DeliveryStatus.Delivered, "call.completed", 100), (0, DeliveryStatus.Failed, "call.completed", 900),
            (3, DeliveryStatus.Delivered, "campaign.started", 40), (3, DeliveryStatus.Pending, "call.completed", 60),
            (30, DeliveryStatus.Delivered, "call.completed", 50));

        var stats = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats");

        Assert.Equal(["hours", "total", "delivered", "failed", "pending", "successRate", "avgLatencyMs", "p95LatencyMs", "byEventType", "series"], Names(stats));
        Assert.Equal(24, stats.GetProperty("hours").GetInt32());
        Assert.Equal((4, 2, 1, 1), (stats.GetProperty("total").GetInt32(), stats.GetProperty("delivered").GetInt32(), stats.GetProperty("failed").GetInt32(), stats.GetProperty("pending").GetInt32()));
        Assert.Equal(66.67, stats.GetProperty("successRate").GetDouble());
        Assert.Equal(275.0, stats.GetProperty("avgLatencyMs").GetDouble());
        Assert.Equal(1000, stats.GetProperty("p95LatencyMs").GetInt32());
        var types = stats.GetProperty("byEventType").EnumerateArray().ToList();
        Assert.Equal(["eventType", "total", "delivered", "failed"], Names(types[0]));
        Assert.Equal(("call.completed", 3, 1, 1), (types[0].GetProperty("eventType").GetString(), types[0].GetProperty("total").GetInt32(), types[0].GetProperty("delivered").GetInt32(), types[0].GetProperty("failed").GetInt32()));
        var series = stats.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(24, series.Count);
        Assert.Equal(["bucketStart", "delivered", "failed", "pending"], Names(series[0]));
        var starts = series.Select(b => b.GetProperty("bucketStart").GetDateTime()).ToList();
        Assert.All(starts.Zip(starts.Skip(1)), pair => Assert.Equal(TimeSpan.FromHours(1), pair.Second - pair.First));
        Assert.All(starts, s => Assert.Equal(0, s.Ticks % TimeSpan.TicksPerHour));
        Assert.Equal((1, 1, 0), (series[^1].GetProperty("delivered").GetInt32(), series[^1].GetProperty("failed").GetInt32(), series[^1].GetProperty("pending").GetInt32()));
        Assert.Equal(0, series[0].GetProperty("delivered").GetInt32());

        var week = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats?hours=168");
        Assert.Equal((168, 5), (week.GetProperty("series").GetArrayLength(), week.GetProperty("total").GetInt32()));
        var hour = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats?hours=1");
        Assert.Equal(1, hour.GetProperty("series").GetArrayLength());
    }

    [Fact]
    public async Task All_time_stats_count_everything_with_first_and_last_delivery()
    {
        var (client, workspaceId) = await WorkspaceAsync();
        var empty = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats/all-time");
        Assert.Equal(["total", "delivered", "failed", "pending", "successRate", "totalAttempts", "firstDeliveryAt", "lastDeliveryAt"], Names(empty));
        Assert.Equal(0, empty.GetProperty("total").GetInt32());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("successRate").ValueKind);
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("firstDeliveryAt").ValueKind);

        await SeedAsync(workspaceId, (500, DeliveryStatus.Delivered, "call.completed", 10), (2, DeliveryStatus.Failed, "call.completed", 10), (1, DeliveryStatus.Delivered, "call.completed", 10));
        var all = await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats/all-time");
        Assert.Equal((3, 2, 1, 0, 3), (all.GetProperty("total").GetInt32(), all.GetProperty("delivered").GetInt32(), all.GetProperty("failed").GetInt32(),
            all.GetProperty("pending").GetInt32(), all.GetProperty("totalAttempts").GetInt32()));
        Assert.Equal(66.67, all.GetProperty("successRate").GetDouble());
        Assert.True(all.GetProperty("lastDeliveryAt").GetDateTime() - all.GetProperty("firstDeliveryAt").GetDateTime() > TimeSpan.FromHours(498));
    }

    [Theory]
    [InlineData("hours=0")]
    [InlineData("hours=169")]
    [InlineData("hours=-1")]
    [InlineData("hours=abc")]
    [InlineData("hours=1.5")]
    public async Task Hours_out_of_1_to_168_get_422_in_the_detail_envelope(string query)
    {
        var (client, _) = await WorkspaceAsync();
        var response = await client.GetAsync($"/v1/webhooks/deliveries/stats?{query}");
        var root = await Envelope.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        var error = root.GetProperty("detail")[0];
        Assert.Equal(["query", "hours"], error.GetProperty("loc").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Stats_need_a_key_and_only_count_the_callers_workspace()
    {
        using var anonymous = app.CreateClient();
        await Envelope.AssertErrorAsync(await anonymous.GetAsync("/v1/webhooks/deliveries/stats"), HttpStatusCode.Unauthorized, EnvelopeKind.Detail);
        var (mine, mineId) = await WorkspaceAsync();
        var (theirs, _) = await WorkspaceAsync();
        await SeedAsync(mineId, (0, DeliveryStatus.Delivered, "call.completed", 10));
        Assert.Equal(1, (await mine.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await theirs.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await theirs.GetFromJsonAsync<JsonElement>("/v1/webhooks/deliveries/stats/all-time")).GetProperty("total").GetInt32());
    }
}
