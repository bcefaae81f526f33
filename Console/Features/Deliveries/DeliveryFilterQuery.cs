using System.Globalization;
using DeliveryConsole.Features.Webhooks;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>The inspector's filters as they live in the URL, so a link can be shared and the back button works.</summary>
public sealed record InspectorQuery
{
    public string? Status { get; init; }
    public string? Type { get; init; }
    public string? Scope { get; init; }
    public string? Endpoint { get; init; }
    public string? Channel { get; init; }
    /// <summary><c>1h</c>, <c>24h</c>, <c>7d</c> or <c>custom</c> (with <see cref="From"/>/<see cref="To"/>); empty is all time.</summary>
    public string? Range { get; init; }
    /// <summary>yyyy-MM-dd (UTC), inclusive; or an instant yyyy-MM-ddTHH:mmZ (links from the dashboard).</summary>
    public string? From { get; init; }
    /// <summary>yyyy-MM-dd (UTC), inclusive; or an instant yyyy-MM-ddTHH:mmZ, exclusive.</summary>
    public string? To { get; init; }
    public string? Q { get; init; }
    /// <summary>The last answer: an HTTP status (<c>503</c>) or <c>none</c> (no answer: an error before or instead of one).</summary>
    public string? Answer { get; init; }
    /// <summary>A payload search, <c>$.data.call.status = COMPLETED</c> (<see cref="PayloadSearch"/>).</summary>
    public string? Payload { get; init; }
    public string? Sort { get; init; }
    public string? Dir { get; init; }

    public static readonly string[] Ranges = ["1h", "24h", "7d", "custom"];

    /// <summary>The service filter for this query at <paramref name="now"/>; unknown values are ignored rather than failing the page.</summary>
    public DeliveryFilter ToFilter(DateTime now)
    {
        var (from, to) = Range switch
        {
            "1h" => (now.AddHours(-1), (DateTime?)null),
            "24h" => (now.AddHours(-24), null),
            "7d" => (now.AddDays(-7), null),
            "custom" => (ParseDay(From) ?? ParseInstant(From), ParseDay(To)?.AddDays(1) ?? ParseInstant(To)),
            _ => ((DateTime?)null, (DateTime?)null),
        };
        return new DeliveryFilter
        {
            Status = DeliveryStatusText.TryParse(Status, out var status) ? status : null,
            EventType = string.IsNullOrWhiteSpace(Type) ? null : Type.Trim(),
            Scope = ParseScope(Scope),
            EndpointId = Guid.TryParse(Endpoint, out var endpoint) ? endpoint : null,
            Channel = Channel is "voice" or "sms" ? Channel : null,
            From = from,
            To = to,
            Search = string.IsNullOrWhiteSpace(Q) ? null : Q.Trim(),
            LastResponseStatus = int.TryParse(Answer, NumberStyles.None, CultureInfo.InvariantCulture, out var answer) && answer is >= 100 and <= 599 ? answer : null,
            NoAnswer = Answer == "none" ? true : null,
            Payload = string.IsNullOrWhiteSpace(Payload) ? null : Payload.Trim(),
        };
    }

    public DeliverySort ToSort() => new(
        Enum.TryParse<DeliverySortField>(Sort, ignoreCase: true, out var field) ? field : DeliverySortField.CreatedAt,
        !string.Equals(Dir, "asc", StringComparison.OrdinalIgnoreCase));

    /// <summary>Query-string pairs (empty values dropped) for links: the CSV export and shared URLs.</summary>
    public IReadOnlyDictionary<string, object?> ToParameters() => new Dictionary<string, object?>
    {
        ["status"] = Blank(Status),
        ["type"] = Blank(Type),
        ["scope"] = Blank(Scope),
        ["endpoint"] = Blank(Endpoint),
        ["channel"] = Blank(Channel),
        ["range"] = Blank(Range),
        ["from"] = Range == "custom" ? Blank(From) : null,
        ["to"] = Range == "custom" ? Blank(To) : null,
        ["q"] = Blank(Q),
        ["answer"] = Blank(Answer),
        ["payload"] = Blank(Payload),
        ["sort"] = Blank(Sort),
        ["dir"] = Blank(Dir),
    };

    public string ToQueryString() => string.Join("&", ToParameters()
        .Where(p => p.Value is string { Length: > 0 })
        .Select(p => $"{p.Key}={Uri.EscapeDataString((string)p.Value!)}"));

    public static InspectorQuery FromQuery(IQueryCollection query) => new()
    {
        Status = Value(query, "status"),
        Type = Value(query, "type"),
        Scope = Value(query, "scope"),
        Endpoint = Value(query, "endpoint"),
        Channel = Value(query, "channel"),
        Range = Value(query, "range"),
        From = Value(query, "from"),
        To = Value(query, "to"),
        Q = Value(query, "q"),
        Answer = Value(query, "answer"),
        Payload = Value(query, "payload"),
        Sort = Value(query, "sort"),
        Dir = Value(query, "dir"),
    };

    public static EndpointScope? ParseScope(string? scope) => scope?.Trim().ToLowerInvariant() switch
    {
        "master" => EndpointScope.Master,
        "application" => EndpointScope.Application,
        "campaign" => EndpointScope.Campaign,
        _ => null,
    };

    public static DateTime? ParseDay(string? value) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day)
            ? DateTime.SpecifyKind(day, DateTimeKind.Utc)
            : null;

    /// <summary>An instant to the minute, UTC: <c>2026-11-22T14:00Z</c>.</summary>
    public static DateTime? ParseInstant(string? value) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? DateTime.SpecifyKind(at, DateTimeKind.Utc)
            : null;

    public static string FormatInstant(DateTime at) => at.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);

    private static string? Value(IQueryCollection query, string name) => Blank(query[name].ToString());

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
