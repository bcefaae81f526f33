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
        group.MapPost("/batch", PublishBatch).WithName("PublishEventBatch")
            .WithSummary("Publishes 1 to 1,000 events at once, all or nothing: any invalid item is a 400 naming every bad index, and nothing is stored")
            .Accepts<PublishBatchRequest>("application/json").Produces<PublishBatchResponse>(StatusCodes.Status202Accepted);
        return group;
    }

    /// <summary>A batch refused because of its items: <c>{"error", "code": "BAD_REQUEST", "items": [{"index", "error"}]}</c>.</summary>
    public sealed record BatchItemError(int Index, string Error);

    public sealed record BatchError(string Error, string Code, IReadOnlyList<BatchItemError> Items);

    public sealed record PublishBatchRequest([property: Required, MinLength(1), MaxLength(EventService.MaxBatch)] IReadOnlyList<PublishRequest> Events);

    public sealed record PublishBatchResponse(IReadOnlyList<PublishResponse> Events);

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
        var request = ReadEvent(body);
        body.ThrowIfInvalid();

        var published = await events.PublishAsync(caller, request!, http.RequestAborted);
        return TypedResults.Json(new PublishResponse(published.EventId, published.DeliveryIds), ApiJson.CamelCase, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The largest batch body: a thousand events of a few KiB each.</summary>
    private const long MaxBatchBytes = 16 * 1024 * 1024;

    public static async Task<IResult> PublishBatch(HttpContext http, EventService events)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var body = await JsonBody.ReadAsync(http.Request, MaxBatchBytes);
        if (!body.Root.TryGetProperty("events", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new DeliveryConsole.Infrastructure.ValidationException("body", "events", "events must be a list of 1 to 1,000 events", "list_type");
        }

        var count = list.GetArrayLength();
        if (count is 0 or > EventService.MaxBatch)
        {
            throw new DeliveryConsole.Infrastructure.ValidationException("body", "events", $"events must hold 1 to {EventService.MaxBatch:N0} events, not {count:N0}", "too_long");
        }

        var requests = new List<NewEvent>(count);
        var problems = new List<BatchItemError>();
        var index = 0;
        foreach (var element in list.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new BatchItemError(index++, "An event must be a JSON object"));
                continue;
            }

            var item = JsonBody.Of(element);
            var request = ReadEvent(item);
            if (item.Errors.Count > 0)
            {
                problems.Add(new BatchItemError(index, string.Join("; ", item.Errors.Select(e => $"{e.Location.Last()}: {e.Message}"))));
            }
            else
            {
                requests.Add(request!);
            }

            index++;
        }

        if (problems.Count > 0)
        {
            return TypedResults.Json(
                new BatchError($"{problems.Count} of {count} events are invalid; nothing was stored.", "BAD_REQUEST", problems),
                ApiJson.CamelCase, statusCode: StatusCodes.Status400BadRequest);
        }

        var published = await events.PublishManyAsync(caller, requests, http.RequestAborted);
        return TypedResults.Json(new PublishBatchResponse(published.Select(p => new PublishResponse(p.EventId, p.DeliveryIds)).ToList()),
            ApiJson.CamelCase, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>One event's fields, as the single and the batch route take them; problems are collected on <paramref name="body"/>.</summary>
    private static NewEvent? ReadEvent(JsonBody body)
    {
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
        return body.Errors.Count > 0 ? null : new NewEvent(eventType!, channel, payload!, callId, applicationId, campaignId);
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
