using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Stats;

/// <summary>GET /v1/webhooks/deliveries/stats and …/stats/all-time (API-CONTRACT.md 1), from <see cref="StatsService"/>.</summary>
public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder routes)
    {
        var account = routes.MapApiGroup(ApiGroups.AccountWebhooks);
        account.MapGet("/deliveries/stats", GetStats).WithName("GetDeliveryStats")
            .WithSummary("Delivery figures of the last N whole UTC hours, with hourly buckets").WithQuery(Hours).WithQuery(EndpointId).Produces<StatsResponse>();
        account.MapGet("/deliveries/stats/all-time", GetAllTimeStats).WithName("GetAllTimeDeliveryStats")
            .WithSummary("Delivery figures since the first delivery").Produces<AllTimeResponse>();
        return routes;
    }

    public static readonly QueryParam Hours = QueryParam.Integer("hours", "Whole UTC hours ending with the current one.", StatsWindow.MinHours, StatsWindow.MaxHours, 24);

    public static readonly QueryParam EndpointId = QueryParam.Text("endpointId", "Only the deliveries to this endpoint (its id); another workspace's endpoint is 404.", 64);

    public sealed record EventTypeItem(string EventType, long Total, long Delivered, long Failed);

    public sealed record SeriesItem(DateTime BucketStart, long Delivered, long Failed, long Pending);

    public sealed record StatsResponse(
        int Hours, long Total, long Delivered, long Failed, long Pending, double? SuccessRate, double? AvgLatencyMs, int? P95LatencyMs,
        IEnumerable<EventTypeItem> ByEventType, IEnumerable<SeriesItem> Series);

    public sealed record AllTimeResponse(
        long Total, long Delivered, long Failed, long Pending, double? SuccessRate, long TotalAttempts, DateTime? FirstDeliveryAt, DateTime? LastDeliveryAt);

    public static async Task<IResult> GetStats(HttpContext http, StatsService stats)
    {
        var query = new QueryReader(http.Request.Query);
        var hours = query.Int(Hours);
        var endpointText = query.String(EndpointId);
        query.ThrowIfInvalid();
        Guid? endpointId = null;
        if (endpointText is not null)
        {
            endpointId = Guid.TryParse(endpointText, out var id) ? id : throw new NotFoundException("Endpoint not found.");
        }

        var s = await stats.GetAsync(http.Caller(), stats.Window(hours), http.RequestAborted, endpointId);
        return TypedResults.Json(new StatsResponse(
            hours, s.Total, s.Delivered, s.Failed, s.Pending, s.SuccessRate, s.AvgLatencyMs, s.P95LatencyMs,
            s.ByEventType.Select(t => new EventTypeItem(t.EventType, t.Total, t.Delivered, t.Failed)),
            s.Series.Select(b => new SeriesItem(b.BucketStart, b.Delivered, b.Failed, b.Pending))), ApiJson.CamelCase);
    }

    public static async Task<IResult> GetAllTimeStats(HttpContext http, StatsService stats)
    {
        var s = await stats.GetAllTimeAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Json(new AllTimeResponse(s.Total, s.Delivered, s.Failed, s.Pending, s.SuccessRate, s.TotalAttempts, s.FirstDeliveryAt, s.LastDeliveryAt), ApiJson.CamelCase);
    }
}
