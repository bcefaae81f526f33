using System.Globalization;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;

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
            "custom" => (ParseDay(From) ?? ParseInstant(From), DayAfter(ParseDay(To)) ?? ParseInstant(To)),
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

    /// <summary>
    /// What is wrong with this query, a message per parameter, for what refuses a query rather
    /// than ignoring what it does not know (the CSV export: a download must be of the filter asked
    /// for). Payload searches are parsed here; their cost bound is checked where they run.
    /// </summary>
    public IReadOnlyList<FieldError> Problems()
    {
        var problems = new List<FieldError>();
        void Add(string name, string message) => problems.Add(new FieldError(["query", name], message, "value_error"));

        if (Status is not null && !DeliveryStatusText.TryParse(Status, out _))
        {
            Add("status", $"status '{Clip(Status)}' is not a delivery status: pending, delivered or failed.");
        }

        if (Type is { Length: > 100 })
        {
            Add("type", "type is an event type of at most 100 characters.");
        }

        if (Scope is not null && ParseScope(Scope) is null)
        {
            Add("scope", $"scope '{Clip(Scope)}' is not an endpoint scope: master, application or campaign.");
        }

        if (Endpoint is not null && !Guid.TryParse(Endpoint, out _))
        {
            Add("endpoint", $"endpoint '{Clip(Endpoint)}' is not an endpoint id (a UUID).");
        }

        if (Channel is not null and not ("voice" or "sms"))
        {
            Add("channel", $"channel '{Clip(Channel)}' is not a channel: voice or sms.");
        }

        if (Range is not null && !Ranges.Contains(Range))
        {
            Add("range", $"range '{Clip(Range)}' is not a time range: 1h, 24h, 7d or custom (with from and to).");
        }

        if (Range == "custom")
        {
            var from = ParseDay(From) ?? ParseInstant(From);
            var to = DayAfter(ParseDay(To)) ?? ParseInstant(To);
            if (From is not null && from is null)
            {
                Add("from", $"from '{Clip(From)}' is not a date (yyyy-MM-dd) or an instant (yyyy-MM-ddTHH:mmZ).");
            }

            if (To is not null && to is null)
            {
                Add("to", $"to '{Clip(To)}' is not a date (yyyy-MM-dd) or an instant (yyyy-MM-ddTHH:mmZ).");
            }

            if (From is null && To is null)
            {
                Add("range", "A custom range needs from, to or both.");
            }

            if (from is { } start && to is { } end && end <= start)
            {
                Add("to", "to must come after from.");
            }
        }
        else if (From is not null || To is not null)
        {
            Add(From is not null ? "from" : "to", "from and to go with range=custom.");
        }

        if (Q is { Length: > 500 })
        {
            Add("q", "q is at most 500 characters.");
        }

        if (Answer is not null and not "none"
            && !(int.TryParse(Answer, NumberStyles.None, CultureInfo.InvariantCulture, out var answer) && answer is >= 100 and <= 599))
        {
            Add("answer", $"answer '{Clip(Answer)}' is not an HTTP status (100 to 599) or none.");
        }

        if (Payload is not null)
        {
            try
            {
                PayloadSearch.Parse(Payload);
            }
            catch (ValidationException exception)
            {
                problems.AddRange(exception.Errors.Select(e => new FieldError(["query", "payload"], e.Message, e.Type)));
            }
        }

        if (Sort is not null && !Enum.TryParse<DeliverySortField>(Sort, ignoreCase: true, out _))
        {
            Add("sort", $"sort '{Clip(Sort)}' is not a column: createdAt, lastAttemptAt, attempts, status or eventType.");
        }

        if (Dir is not null && !Dir.Equals("asc", StringComparison.OrdinalIgnoreCase) && !Dir.Equals("desc", StringComparison.OrdinalIgnoreCase))
        {
            Add("dir", $"dir '{Clip(Dir)}' is asc or desc.");
        }

        return problems;
    }

    /// <summary>
    /// This query without the values the page ignores (an unknown status, a bad date): what the
    /// page shows, as a link that asks for the same (the export). An invalid payload search stays:
    /// the page shows why it is refused.
    /// </summary>
    public InspectorQuery WithoutIgnoredValues()
    {
        var bad = Problems().Select(p => p.Location[^1]).Where(name => name != "payload").ToHashSet();
        return this with
        {
            Status = bad.Contains("status") ? null : Status,
            Type = bad.Contains("type") ? null : Type,
            Scope = bad.Contains("scope") ? null : Scope,
            Endpoint = bad.Contains("endpoint") ? null : Endpoint,
            Channel = bad.Contains("channel") ? null : Channel,
            Range = bad.Contains("range") ? null : Range,
            From = bad.Contains("range") || bad.Contains("from") ? null : From,
            To = bad.Contains("range") || bad.Contains("to") ? null : To,
            Q = bad.Contains("q") ? null : Q,
            Answer = bad.Contains("answer") ? null : Answer,
            Sort = bad.Contains("sort") ? null : Sort,
            Dir = bad.Contains("dir") ? null : Dir,
        };
    }

    private static string Clip(string value) => value.Length > 40 ? value[..40] + "…" : value;

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

    /// <summary>The end of an inclusive day: the next midnight (the last day of the calendar ends at its last instant).</summary>
    private static DateTime? DayAfter(DateTime? day) => day is { } d ? (d >= DateTime.MaxValue.Date ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : d.AddDays(1)) : null;

    /// <summary>An instant to the minute, UTC: <c>2026-11-22T14:00Z</c>.</summary>
    public static DateTime? ParseInstant(string? value) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? DateTime.SpecifyKind(at, DateTimeKind.Utc)
            : null;

    public static string FormatInstant(DateTime at) => at.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);

    private static string? Value(IQueryCollection query, string name) => Blank(query[name].ToString());

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
