using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>Group 1 (reference/account-webhook-deliveries.txt): the workspace's master webhook. Errors as <c>{"detail": …}</c>.</summary>
public static class MasterWebhookApi
{
    public static RouteGroupBuilder MapMasterWebhookApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.AccountWebhooks);
        group.MapGet("/", GetWebhook).WithName("GetWebhook");
        group.MapPost("/", SaveWebhook).WithName("CreateOrUpdateWebhook");
        group.MapDelete("/", DeleteWebhook).WithName("DeleteWebhook");
        return group;
    }

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
