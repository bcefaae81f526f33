using System.ComponentModel.DataAnnotations;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>Group 1 (reference/account-webhook-deliveries.txt): the workspace's master webhook. Errors as <c>{"detail": …}</c>.</summary>
public static class MasterWebhookApi
{
    public static RouteGroupBuilder MapMasterWebhookApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.AccountWebhooks);
        group.MapGet("/", GetWebhook).WithName("GetWebhook")
            .WithSummary("The workspace's master webhook, or null when none").Produces<WebhookResponse>();
        group.MapPost("/", SaveWebhook).WithName("CreateOrUpdateWebhook")
            .WithSummary("Creates or updates the master webhook; a new secret is generated and returned once")
            .Accepts<SaveWebhookRequest>("application/json").Produces<WebhookWithSecretResponse>();
        group.MapDelete("/", DeleteWebhook).WithName("DeleteWebhook")
            .WithSummary("Deletes the master webhook; its pending deliveries fail with \"endpoint deleted\"").Produces(StatusCodes.Status204NoContent);
        return group;
    }

    public sealed record SaveWebhookRequest(
        [property: Required, MaxLength(EndpointUrl.MaxLength)] string Url,
        IReadOnlyList<string>? EventTypes,
        [property: Range(0, 50)] int? ContextLimit);

    public sealed record WebhookResponse(Guid Id, string Url, string Status, IReadOnlyList<string> EventTypes, int ContextLimit, DateTime CreatedAt)
    {
        public static WebhookResponse From(EndpointView e) => new(e.Id, e.Url, e.StatusText, e.EventTypes, e.ContextLimit, e.CreatedAt);
    }

    public sealed record WebhookWithSecretResponse(Guid Id, string Url, string Status, IReadOnlyList<string> EventTypes, int ContextLimit, DateTime CreatedAt, string Secret);

    public static async Task<IResult> GetWebhook(HttpContext http, WebhookService webhooks)
    {
        var endpoint = await webhooks.GetMasterAsync(http.Caller(), http.RequestAborted);
        return endpoint is null
            ? Results.Text("null", "application/json")
            : TypedResults.Json(WebhookResponse.From(endpoint), ApiJson.CamelCase);
    }

    public static async Task<IResult> SaveWebhook(HttpContext http, WebhookService webhooks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        var body = await JsonBody.ReadAsync(http.Request);
        var url = body.String("url", required: true, maxLength: EndpointUrl.MaxLength);
        var eventTypes = body.StringList("eventTypes");
        var contextLimit = body.Int("contextLimit", 0, 50);
        body.ThrowIfInvalid();

        var saved = await webhooks.SaveMasterAsync(caller, url!, eventTypes, contextLimit, http.RequestAborted);
        var e = saved.Endpoint;
        return TypedResults.Json(new WebhookWithSecretResponse(e.Id, e.Url, e.StatusText, e.EventTypes, e.ContextLimit, e.CreatedAt, saved.Secret), ApiJson.CamelCase);
    }

    public static async Task<IResult> DeleteWebhook(HttpContext http, WebhookService webhooks)
    {
        await webhooks.DeleteMasterAsync(http.Caller(), http.RequestAborted);
        return TypedResults.NoContent();
    }
}
