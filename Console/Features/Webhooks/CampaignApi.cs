using System.ComponentModel.DataAnnotations;
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
        group.MapPost("/", CreateCampaign).WithName("CreateCampaign").WithSummary("Creates a campaign")
            .Accepts<CreateCampaignRequest>("application/json").Produces<CampaignAnswer<CampaignResponse>>(StatusCodes.Status201Created);
        group.MapGet("/", ListCampaigns).WithName("ListCampaigns").WithSummary("Campaigns").Produces<CampaignAnswer<IReadOnlyList<CampaignResponse>>>();
        group.MapGet("/{campaignId}", GetCampaign).WithName("GetCampaign").WithSummary("One campaign").Produces<CampaignAnswer<CampaignResponse>>();
        group.MapPost("/{campaignId}/webhooks", CreateWebhook).WithName("CreateCampaignWebhook")
            .WithSummary("Adds a webhook to a campaign; its secret is returned only here")
            .Accepts<CreateCampaignWebhookRequest>("application/json").Produces<CampaignAnswer<CampaignWebhookResponse>>(StatusCodes.Status201Created);
        group.MapGet("/{campaignId}/webhooks", ListWebhooks).WithName("ListCampaignWebhooks").WithSummary("A campaign's webhooks")
            .Produces<CampaignAnswer<IReadOnlyList<CampaignWebhookResponse>>>();
        group.MapDelete("/{campaignId}/webhooks/{webhookId}", DeleteWebhook).WithName("DeleteCampaignWebhook")
            .WithSummary("Deletes a campaign webhook; history stays").Produces(StatusCodes.Status204NoContent);
        return group;
    }

    /// <summary>The campaign group's answer: <c>{"success": true, "data": …}</c>.</summary>
    public sealed record CampaignAnswer<T>(bool Success, T Data);

    public sealed record CreateCampaignRequest([property: Required, MaxLength(200)] string Name, [property: MaxLength(20)] string? Status);

    public sealed record CreateCampaignWebhookRequest([property: Required, MaxLength(EndpointUrl.MaxLength)] string Url, IReadOnlyList<string>? Events);

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
        Ok<IReadOnlyList<CampaignResponse>>((await campaigns.ListAsync(http.Caller(), http.RequestAborted)).Select(CampaignResponse.From).ToList());

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
        return Ok<IReadOnlyList<CampaignWebhookResponse>>(items.Select(e => CampaignWebhookResponse.From(e)).ToList());
    }

    public static async Task<IResult> DeleteWebhook(HttpContext http, string campaignId, string webhookId, WebhookService webhooks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        await webhooks.DeleteCampaignWebhookAsync(caller, ParseId(campaignId, "Campaign"), ParseId(webhookId, "Webhook"), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static IResult Ok<T>(T data, int status = StatusCodes.Status200OK) =>
        TypedResults.Json(new CampaignAnswer<T>(true, data), ApiJson.CamelCase, statusCode: status);
}
