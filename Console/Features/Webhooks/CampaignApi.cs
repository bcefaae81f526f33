using System.Text.Json.Serialization;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>Group 5 (reference/campaign-webhook-logs.txt): campaigns and their webhooks. Answers as <c>{"success": true, "data": …}</c>.</summary>
public static class CampaignApi
{
    public static RouteGroupBuilder MapCampaignApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Campaigns);
        group.MapPost("/", CreateCampaign).WithName("CreateCampaign");
        group.MapGet("/", ListCampaigns).WithName("ListCampaigns");
        group.MapGet("/{campaignId}", GetCampaign).WithName("GetCampaign");
        group.MapPost("/{campaignId}/webhooks", CreateWebhook).WithName("CreateCampaignWebhook");
        group.MapGet("/{campaignId}/webhooks", ListWebhooks).WithName("ListCampaignWebhooks");
        group.MapDelete("/{campaignId}/webhooks/{webhookId}", DeleteWebhook).WithName("DeleteCampaignWebhook");
        return group;
    }

    public sealed record CampaignResponse(Guid Id, string Name, string Status, DateTime CreatedAt)
    {
        public static CampaignResponse From(CampaignView c) => new(c.Id, c.Name, c.Status, c.CreatedAt);
    }

    public sealed record CampaignWebhookResponse(Guid Id, string Url, IReadOnlyList<string> Events, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
    {
        public static CampaignWebhookResponse From(EndpointView e, string? secret = null) => new(e.Id, e.Url, e.EventTypes, e.StatusText, secret);
    }

    /// <summary>Unknown or malformed ids are simply not found in this group.</summary>
    public static Guid ParseId(string id, string what) =>
        Guid.TryParse(id, out var parsed) ? parsed : throw new NotFoundException($"{what} not found.");

    public static async Task<IResult> CreateCampaign(HttpContext http, CampaignService campaigns)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        var body = await JsonBody.ReadAsync(http.Request);
        var name = body.String("name", required: true, maxLength: 200);
        var status = body.String("status", maxLength: 20);
        body.ThrowIfInvalid();
        var campaign = await campaigns.CreateAsync(caller, name!, status, http.RequestAborted);
        return Ok(CampaignResponse.From(campaign), StatusCodes.Status201Created);
    }

    public static async Task<IResult> ListCampaigns(HttpContext http, CampaignService campaigns) =>
        Ok((await campaigns.ListAsync(http.Caller(), http.RequestAborted)).Select(CampaignResponse.From));

    public static async Task<IResult> GetCampaign(HttpContext http, string campaignId, CampaignService campaigns)
    {
        var caller = http.Caller();
        return Ok(CampaignResponse.From(await campaigns.GetAsync(caller, ParseId(campaignId, "Campaign"), http.RequestAborted)));
    }

    public static async Task<IResult> CreateWebhook(HttpContext http, string campaignId, WebhookService webhooks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        var id = ParseId(campaignId, "Campaign");
        var body = await JsonBody.ReadAsync(http.Request);
        var url = body.String("url", required: true, maxLength: EndpointUrl.MaxLength);
        var events = body.StringList("events");
        body.ThrowIfInvalid();
        var created = await webhooks.CreateCampaignWebhookAsync(caller, id, url!, events, http.RequestAborted);
        return Ok(CampaignWebhookResponse.From(created.Endpoint, created.Secret), StatusCodes.Status201Created);
    }

    public static async Task<IResult> ListWebhooks(HttpContext http, string campaignId, WebhookService webhooks)
    {
        var caller = http.Caller();
        var items = await webhooks.ListCampaignWebhooksAsync(caller, ParseId(campaignId, "Campaign"), http.RequestAborted);
        return Ok(items.Select(e => CampaignWebhookResponse.From(e)));
    }

    public static async Task<IResult> DeleteWebhook(HttpContext http, string campaignId, string webhookId, WebhookService webhooks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        await webhooks.DeleteCampaignWebhookAsync(caller, ParseId(campaignId, "Campaign"), ParseId(webhookId, "Webhook"), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static IResult Ok(object data, int status = StatusCodes.Status200OK) =>
        TypedResults.Json(new { success = true, data }, ApiJson.CamelCase, statusCode: status);
}
