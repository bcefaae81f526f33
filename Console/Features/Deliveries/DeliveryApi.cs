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
        account.MapGet("/deliveries", ListAccountDeliveries).WithName("ListDeliveries")
            .WithSummary("Deliveries of the workspace, newest first").WithQuery(AccountLimit, AccountOffset, AccountHours)
            .Produces<AccountDeliveryPage>();

        var applications = routes.MapApiGroup(ApiGroups.Applications);
        applications.MapGet("/{id}/deliveries", ListApplicationDeliveries).WithName("ListApplicationDeliveries")
            .WithSummary("Deliveries to an application's finishedUrl, newest first").WithQuery(ApplicationPage, ApplicationLimit)
            .Produces<ApplicationDeliveryPage>();
        applications.MapGet("/{id}/deliveries/{deliveryId}", GetApplicationDelivery).WithName("GetApplicationDelivery")
            .WithSummary("One delivery with what was sent and the latest answer").Produces<ApplicationDeliveryDetail>();

        var campaigns = routes.MapApiGroup(ApiGroups.Campaigns);
        campaigns.MapGet("/{campaignId}/webhooks/{webhookId}/logs", ListCampaignWebhookLogs).WithName("ListCampaignWebhookLogs")
            .WithSummary("Attempts to a campaign webhook, newest first").WithQuery(LogPage, LogPerPage)
            .Produces<CampaignLogPage>();
        return routes;
    }

    public static readonly QueryParam AccountLimit = QueryParam.Integer("limit", "Deliveries per page.", 1, 100, 50);
    public static readonly QueryParam AccountOffset = QueryParam.Integer("offset", "Deliveries to skip.", 0, int.MaxValue, 0);
    public static readonly QueryParam AccountHours = QueryParam.Integer("hours", "Only deliveries created within the last N hours.", 1, 168);
    public static readonly QueryParam ApplicationPage = QueryParam.Integer("page", "Page number, from 1.", 1, int.MaxValue, 1);
    public static readonly QueryParam ApplicationLimit = QueryParam.Integer("limit", "Deliveries per page.", 1, 100, 20, capAtMaximum: true);
    public static readonly QueryParam LogPage = QueryParam.Integer("page", "Page number, from 1.", 1, int.MaxValue, 1);
    public static readonly QueryParam LogPerPage = QueryParam.Integer("per_page", "Attempts per page.", 1, 100, 25);

    public sealed record AccountDeliveryPage(IReadOnlyList<AccountDeliveryItem> Items, long Total, int Offset, int Limit);

    public sealed record ApplicationPagination(int Page, int Limit, long TotalItems, int TotalPages);

    public sealed record ApplicationDeliveryPage(IReadOnlyList<ApplicationDeliveryItem> Data, ApplicationPagination Pagination);

    public sealed record ApplicationDeliveryDetail(
        Guid Id, string EventType, string EventId, string Status, int Attempts, int? ResponseStatus, string? LastError,
        DateTime? NextAttemptAt, DateTime CreatedAt, DateTime? DeliveredAt, string? CallId, string TargetUrl,
        JsonElement? RequestHeaders, JsonElement? Payload, string? ResponseBody);

    [SnakeCaseWire]
    public sealed record CampaignLogItem(Guid Id, string Event, int Attempt, string Status, int? HttpStatus, int DurationMs, DateTime? DeliveredAt, DateTime CreatedAt);

    [SnakeCaseWire]
    public sealed record CampaignLogPagination(int CurrentPage, int PerPage, long Total);

    [SnakeCaseWire]
    public sealed record CampaignLogPage(bool Success, IReadOnlyList<CampaignLogItem> Data, CampaignLogPagination Pagination);

    public sealed record AccountDeliveryItem(
        Guid Id, string MessageId, string EventType, string Channel, string Status, int? HttpStatus, string? ErrorMessage,
        string? ResponseBody, int AttemptCount, DateTime? LastAttemptAt, DateTime? NextRetryAt, DateTime CreatedAt);

    public static async Task<IResult> ListAccountDeliveries(HttpContext http, DeliveryQueries deliveries, TimeProvider clock)
    {
        var caller = http.Caller();
        var query = new QueryReader(http.Request.Query);
        var limit = query.Int(AccountLimit);
        var offset = query.Int(AccountOffset);
        var hours = query.OptionalInt(AccountHours);
        query.ThrowIfInvalid();

        var filter = new DeliveryFilter { From = hours is { } h ? clock.GetUtcNow().UtcDateTime.AddHours(-h) : null };
        var page = await deliveries.PageAsync(caller, filter, DeliverySort.Newest, offset, limit, http.RequestAborted);
        var bodies = await deliveries.LatestResponseBodiesAsync(page.Items.Select(i => i.Id).ToList(), http.RequestAborted);
        var items = page.Items.Select(d => new AccountDeliveryItem(
            d.Id, d.EventId, d.EventType, d.Channel, d.Status.ToWire(), d.LastResponseStatus, d.LastError,
            bodies.GetValueOrDefault(d.Id), d.Attempts, d.LastAttemptAt, d.NextAttemptAt, d.CreatedAt)).ToList();
        return TypedResults.Json(new AccountDeliveryPage(items, page.Total, offset, limit), ApiJson.CamelCase);
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
        var page = query.Int(ApplicationPage);
        var limit = query.Int(ApplicationLimit);
        query.ThrowIfInvalid();
        await applications.GetAsync(caller, applicationId, http.RequestAborted);

        var filter = new DeliveryFilter { ApplicationId = applicationId, Scope = EndpointScope.Application };
        var offset = (int)Math.Min(int.MaxValue, ((long)page - 1) * limit);
        var result = await deliveries.PageAsync(caller, filter, DeliverySort.Newest, offset, limit, http.RequestAborted);
        var totalPages = (int)((result.Total + limit - 1) / limit);
        return TypedResults.Json(
            new ApplicationDeliveryPage(result.Items.Select(ApplicationDeliveryItem.From).ToList(), new ApplicationPagination(page, limit, result.Total, totalPages)),
            ApiJson.CamelCase);
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
        return TypedResults.Json(new ApplicationDeliveryDetail(
            d.Id, d.EventType, d.EventId, d.Status.ToWire(), d.Attempts, d.LastResponseStatus, d.LastError, d.NextAttemptAt, d.CreatedAt, d.DeliveredAt,
            d.CallId, d.TargetUrl, ParseObject(latest?.RequestHeadersJson), ParseObject(detail.PayloadJson), latest?.ResponseBody), ApiJson.CamelCase);
    }

    public static async Task<IResult> ListCampaignWebhookLogs(HttpContext http, string campaignId, string webhookId, DeliveryQueries deliveries, WebhookService webhooks)
    {
        var caller = http.Caller();
        var campaign = CampaignApi.ParseId(campaignId, "Campaign");
        var webhook = CampaignApi.ParseId(webhookId, "Webhook");
        var query = new QueryReader(http.Request.Query);
        var page = query.Int(LogPage);
        var perPage = query.Int(LogPerPage);
        query.ThrowIfInvalid();
        if ((await webhooks.ListCampaignWebhooksAsync(caller, campaign, http.RequestAborted)).All(e => e.Id != webhook))
        {
            throw new NotFoundException("Webhook not found.");
        }

        var offset = (int)Math.Min(int.MaxValue, ((long)page - 1) * perPage);
        var (items, total) = await deliveries.AttemptLogAsync(caller, webhook, offset, perPage, http.RequestAborted);
        var data = items.Select(a => new CampaignLogItem(
            a.Id, a.EventType, a.Number, a.Succeeded ? "success" : "failed", a.ResponseStatus, a.DurationMs,
            a.Succeeded ? a.CompletedAt : null, a.StartedAt)).ToList();
        return TypedResults.Json(new CampaignLogPage(true, data, new CampaignLogPagination(page, perPage, total)), ApiJson.SnakeCase);
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
