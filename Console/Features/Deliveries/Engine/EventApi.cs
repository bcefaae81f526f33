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
            .WithSummary("Publishes 1 to 1,000 events at once, all or nothing: any invalid item is a 400 naming every bad index, an event over 1 MiB a 413 naming it, a body over 4 MiB a 413; nothing is stored")
            .WithBodyLimit(RequestBody.BatchLimit)
            .Accepts<PublishBatchRequest>("application/json").Produces<PublishBatchResponse>(StatusCodes.Status202Accepted);
        return group;
    }

    /// <summary>
    /// A batch refused because of its items: <c>{"error", "code", "items": [{"index", "error"}]}</c>,
    /// with code BAD_REQUEST (400) for invalid items or PAYLOAD_TOO_LARGE (413) for items over the single-event limit.
    /// </summary>
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

    public static async Task<IResult> PublishBatch(HttpContext http, EventService events)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var (bytes, tooLarge) = await RequestBody.ReadWithinLimitAsync(http);
        if (tooLarge)
        {
            // Over the batch limit: the events already seen to be over the single-event limit are named.
            var known = BatchScan.OversizedItems(bytes.Span, RequestBody.DefaultLimit);
            return TypedResults.Json(
                new BatchError($"The batch is larger than {RequestBody.Describe(RequestBody.BatchLimit)}" +
                    (known.Count > 0 ? $" and {(known.Count == 1 ? "an event is" : "events are")} larger than {RequestBody.Describe(RequestBody.DefaultLimit)}" : "") +
                    "; nothing was stored. Send at most 4 MiB a batch, each event at most 1 MiB.",
                    "PAYLOAD_TOO_LARGE", known.Select(i => new BatchItemError(i, $"This event is larger than {RequestBody.Describe(RequestBody.DefaultLimit)} ({RequestBody.DefaultLimit:N0} bytes).")).ToList()),
                ApiJson.CamelCase, statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var body = JsonBody.Of(http.Request, bytes);
        if (!body.Root.TryGetProperty("events", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new DeliveryConsole.Infrastructure.ValidationException("body", "events", "events must be a list of 1 to 1,000 events", "list_type");
        }

        var count = list.GetArrayLength();
        if (count is 0 or > EventService.MaxBatch)
        {
            throw new DeliveryConsole.Infrastructure.ValidationException("body", "events", $"events must hold 1 to {EventService.MaxBatch:N0} events, not {count:N0}", "too_long");
        }

        // Each event within the limit of POST /v1/events, as if it had been sent alone: checked
        // first, so an oversized event is refused without reading any event's fields.
        var oversized = new List<BatchItemError>();
        var position = 0;
        foreach (var element in list.EnumerateArray())
        {
            var size = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).Length;
            if (size > RequestBody.DefaultLimit)
            {
                oversized.Add(new BatchItemError(position, $"This event is {size:N0} bytes; an event may be at most {RequestBody.Describe(RequestBody.DefaultLimit)} ({RequestBody.DefaultLimit:N0} bytes)."));
            }

            position++;
        }

        if (oversized.Count > 0)
        {
            return TypedResults.Json(
                new BatchError($"{oversized.Count} of {count} events are larger than {RequestBody.Describe(RequestBody.DefaultLimit)}; nothing was stored.", "PAYLOAD_TOO_LARGE", oversized),
                ApiJson.CamelCase, statusCode: StatusCodes.Status413PayloadTooLarge);
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
