using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>POST /v1/events: errors as <c>{"error", "code"}</c> (the /v1 style of applications).</summary>
public static partial class EventApi
{
    public static RouteGroupBuilder MapEventApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Events);
        group.MapPost("/", PublishEvent).WithName("PublishEvent")
            .WithSummary("Publishes an event: one delivery per matching endpoint (master webhook, the application's finishedUrl, the campaign's webhooks)")
            .Accepts<PublishRequest>("application/json").Produces<PublishResponse>(StatusCodes.Status202Accepted);
        return group;
    }

    /// <summary>callId, applicationId and campaignId, when given, must belong to the key's workspace (else 404).</summary>
    public sealed record PublishRequest(
        [property: Required, MaxLength(100), RegularExpression("^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$")] string EventType,
        [property: AllowedValues("voice", "sms")] string? Channel,
        [property: Required] JsonElement Payload,
        [property: MaxLength(48)] string? CallId,
        Guid? ApplicationId,
        Guid? CampaignId);

    public sealed record PublishResponse(string EventId, IReadOnlyList<Guid> DeliveryIds);

    public static async Task<IResult> PublishEvent(HttpContext http, EventService events)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var body = await JsonBody.ReadAsync(http.Request);
        var eventType = body.String("eventType", required: true, maxLength: 100);
        if (eventType is not null && !EventTypePattern().IsMatch(eventType))
        {
            body.Fail("eventType", "eventType looks like call.completed: lowercase words separated by dots", "pattern");
        }

        var channel = body.String("channel", maxLength: 16) ?? "voice";
        if (!WebhookEvent.Channels.Contains(channel))
        {
            body.Fail("channel", "channel must be voice or sms", "enum");
        }

        var payload = body.ObjectJson("payload", required: true);
        var callId = body.String("callId", maxLength: 48);
        var applicationId = OptionalGuid(body, "applicationId");
        var campaignId = OptionalGuid(body, "campaignId");
        body.ThrowIfInvalid();

        var published = await events.PublishAsync(caller, new NewEvent(eventType!, channel, payload!, callId, applicationId, campaignId), http.RequestAborted);
        return TypedResults.Json(new PublishResponse(published.EventId, published.DeliveryIds), ApiJson.CamelCase, statusCode: StatusCodes.Status202Accepted);
    }

    private static Guid? OptionalGuid(JsonBody body, string name)
    {
        var text = body.String(name, maxLength: 64);
        if (text is null)
        {
            return null;
        }

        if (Guid.TryParse(text, out var id))
        {
            return id;
        }

        body.Fail(name, $"{name} is not a valid UUID", "uuid_parsing");
        return null;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$")]
    private static partial Regex EventTypePattern();
}
