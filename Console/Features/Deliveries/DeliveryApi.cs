using System.Text.Json;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>
/// The read side of the three delivery groups (API-CONTRACT.md 1, 2, 5), each in its own
/// envelope and names, all served by <see cref="DeliveryQueries"/>.
/// </summary>
public static class DeliveryApi
{
    public static IEndpointRouteBuilder MapDeliveryApi(this IEndpointRouteBuilder routes)
    {
        var account = routes.MapApiGroup(ApiGroups.AccountWebhooks);
        account.MapGet("/deliveries", ListAccountDeliveries).WithName("ListDeliveries");

        var applications = routes.MapApiGroup(ApiGroups.Applications);
        applications.MapGet("/{id}/deliveries", ListApplicationDeliveries).WithName("ListApplicationDeliveries");
        applications.MapGet("/{id}/deliveries/{deliveryId}", GetApplicationDelivery).WithName("GetApplicationDelivery");

        var campaigns = routes.MapApiGroup(ApiGroups.Campaigns);
        campaigns.MapGet("/{campaignId}/webhooks/{webhookId}/logs", ListCampaignWebhookLogs).WithName("ListCampaignWebhookLogs");
        return routes;
    }

    public sealed record AccountDeliveryItem(
        Guid Id, string MessageId, string EventType, string Channel, string Status, int? HttpStatus, string? ErrorMessage,
        string? ResponseBody, int AttemptCount, DateTime? LastAttemptAt, DateTime? NextRetryAt, DateTime CreatedAt);

    public static async Task<IResult> ListAccountDeliveries(HttpContext http, DeliveryQueries deliveries, TimeProvider clock)
    {
        var caller = http.Caller();
        var query = new QueryReader(http.Request.Query);
        var limit = query.Int("limit", 50, 1, 100);
        var offset = query.Int("offset", 0, 0, int.MaxValue);
        var hours = query.OptionalInt("hours", 1, 168);
        query.ThrowIfInvalid();

        var filter = new DeliveryFilter { From = hours is { } h ? clock.GetUtcNow().UtcDateTime.AddHours(-h) : null };
        var page = await deliveries.PageAsync(caller, filter, DeliverySort.Newest, offset, limit, http.RequestAborted);
        var bodies = await deliveries.LatestResponseBodiesAsync(page.Items.Select(i => i.Id).ToList(), http.RequestAborted);
        var items = page.Items.Select(d => new AccountDeliveryItem(
            d.Id, d.EventId, d.EventType, d.Channel, d.Status.ToWire(), d.LastResponseStatus, d.LastError,
            bodies.GetValueOrDefault(d.Id), d.Attempts, d.LastAttemptAt, d.NextAttemptAt, d.CreatedAt));
        return TypedResults.Json(new { items, total = page.Total, offset, limit }, ApiJson.CamelCase);
    }

    public sealed record ApplicationDeliveryItem(
        Guid Id, string EventType, string EventId, string Status, int Attempts, int? ResponseStatus, string? LastError,
        DateTime? NextAttemptAt, DateTime CreatedAt, DateTime? DeliveredAt)
    {
        public static ApplicationDeliveryItem From(DeliveryRow d) =>
            new(d.Id, d.EventType, d.EventId, d.Status.ToWire(), d.Attempts, d.LastResponseStatus, d.LastError, d.NextAttemptAt, d.CreatedAt, d.DeliveredAt);
    }

    public static async Task<IResult> ListApplicationDeliveries(HttpContext http, string id, DeliveryQueries deliveries, ApplicationService applications)
    {
        var caller = http.Caller();
        var applicationId = ApplicationApi.ParseId(id);
        var query = new QueryReader(http.Request.Query);
        var page = query.Int("page", 1, 1, int.MaxValue);
        var limit = query.Int("limit", 20, 1, 100, capAtMax: true);
        query.ThrowIfInvalid();
        await applications.GetAsync(caller, applicationId, http.RequestAborted);

        var filter = new DeliveryFilter { ApplicationId = applicationId, Scope = EndpointScope.Application };
        var offset = (int)Math.Min(int.MaxValue, ((long)page - 1) * limit);
        var result = await deliveries.PageAsync(caller, filter, DeliverySort.Newest, offset, limit, http.RequestAborted);
        var totalPages = (int)((result.Total + limit - 1) / limit);
        return TypedResults.Json(new
        {
            data = result.Items.Select(ApplicationDeliveryItem.From),
            pagination = new { page, limit, totalItems = result.Total, totalPages },
        }, ApiJson.CamelCase);
    }

    public static async Task<IResult> GetApplicationDelivery(HttpContext http, string id, string deliveryId, DeliveryQueries deliveries, ApplicationService applications)
    {
        var caller = http.Caller();
        var applicationId = ApplicationApi.ParseId(id);
        var delivery = ApplicationApi.ParseId(deliveryId, "deliveryId");
        await applications.GetAsync(caller, applicationId, http.RequestAborted);
        var detail = await deliveries.GetAsync(caller, delivery, applicationId, http.RequestAborted);
        var d = detail.Delivery;
        var latest = detail.Latest;
        return TypedResults.Json(new
        {
            id = d.Id,
            eventType = d.EventType,
            eventId = d.EventId,
            status = d.Status.ToWire(),
            attempts = d.Attempts,
            responseStatus = d.LastResponseStatus,
            lastError = d.LastError,
            nextAttemptAt = d.NextAttemptAt,
            createdAt = d.CreatedAt,
            deliveredAt = d.DeliveredAt,
            callId = d.CallId,
            targetUrl = d.TargetUrl,
            requestHeaders = ParseObject(latest?.RequestHeadersJson),
            payload = ParseObject(detail.PayloadJson),
            responseBody = latest?.ResponseBody,
        }, ApiJson.CamelCase);
    }

    public static async Task<IResult> ListCampaignWebhookLogs(HttpContext http, string campaignId, string webhookId, DeliveryQueries deliveries, WebhookService webhooks)
    {
        var caller = http.Caller();
        var campaign = CampaignApi.ParseId(campaignId, "Campaign");
        var webhook = CampaignApi.ParseId(webhookId, "Webhook");
        var query = new QueryReader(http.Request.Query);
        var page = query.Int("page", 1, 1, int.MaxValue);
        var perPage = query.Int("per_page", 25, 1, 100);
        query.ThrowIfInvalid();
        if ((await webhooks.ListCampaignWebhooksAsync(caller, campaign, http.RequestAborted)).All(e => e.Id != webhook))
        {
            throw new NotFoundException("Webhook not found.");
        }

        var offset = (int)Math.Min(int.MaxValue, ((long)page - 1) * perPage);
        var (items, total) = await deliveries.AttemptLogAsync(caller, webhook, offset, perPage, http.RequestAborted);
        return TypedResults.Json(new
        {
            success = true,
            data = items.Select(a => new
            {
                id = a.Id,
                @event = a.EventType,
                attempt = a.Number,
                status = a.Succeeded ? "success" : "failed",
                http_status = a.ResponseStatus,
                duration_ms = a.DurationMs,
                delivered_at = a.Succeeded ? a.CompletedAt : (DateTime?)null,
                created_at = a.StartedAt,
            }),
            pagination = new { current_page = page, per_page = perPage, total },
        }, ApiJson.SnakeCase);
    }

    private static JsonElement? ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
