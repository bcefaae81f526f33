namespace DeliveryConsole.Features.Callbacks;

/// <summary>
/// A workspace's quiet hours for callbacks: a daily window in the callee's local time (e.g. 21:00 to
/// 08:00, wrapping midnight) during which a scheduled callback is not dispatched; it waits until the
/// window ends. Daylight saving is the zone's: the end is the next local end time after the moment.
/// </summary>
public sealed record QuietHours(int StartMinute, int EndMinute)
{
    public static QuietHours? Of(int? start, int? end) => start is { } s && end is { } e && s != e ? new QuietHours(s, e) : null;

    public string Text => $"{Clock(StartMinute)}–{Clock(EndMinute)}";

    public static string Clock(int minute) => $"{minute / 60:00}:{minute % 60:00}";

    /// <summary>True when <paramref name="localMinute"/> (minutes after local midnight) falls in the window.</summary>
    public bool Contains(int localMinute) =>
        StartMinute < EndMinute ? localMinute >= StartMinute && localMinute < EndMinute : localMinute >= StartMinute || localMinute < EndMinute;

    /// <summary>When a callback due at <paramref name="utc"/> may be dispatched: <paramref name="utc"/> itself outside the window, else the window's end (UTC).</summary>
    public DateTime AllowedFrom(DateTime utc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), zone);
        var minute = local.Hour * 60 + local.Minute;
        if (!Contains(minute))
        {
            return utc;
        }

        var endDay = local.Date.AddMinutes(EndMinute);
        if (endDay <= local)
        {
            endDay = endDay.AddDays(1);
        }

        // A local end time that does not exist (skipped by daylight saving) moves past the gap.
        while (zone.IsInvalidTime(endDay))
        {
            endDay = endDay.AddMinutes(30);
        }

        return TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(endDay, DateTimeKind.Unspecified), zone);
    }
}

/// <summary>
/// The callee's time zone from the number's country calling code (E.164), for quiet hours. Countries
/// with several zones get their most populous one (North America: Eastern); an operator can set a
/// callback's zone when that is wrong. Unknown codes fall back to UTC.
/// </summary>
public static class CalleeZone
{
    private static readonly (string Code, string Zone)[] ByCallingCode =
    [
        ("1", "America/New_York"), ("7", "Europe/Moscow"), ("20", "Africa/Cairo"), ("27", "Africa/Johannesburg"), ("30", "Europe/Athens"),
        ("31", "Europe/Amsterdam"), ("32", "Europe/Brussels"), ("33", "Europe/Paris"), ("34", "Europe/Madrid"), ("36", "Europe/Budapest"),
        ("39", "Europe/Rome"), ("40", "Europe/Bucharest"), ("41", "Europe/Zurich"), ("43", "Europe/Vienna"), ("44", "Europe/London"),
        ("45", "Europe/Copenhagen"), ("46", "Europe/Stockholm"), ("47", "Europe/Oslo"), ("48", "Europe/Warsaw"), ("49", "Europe/Berlin"),
        ("51", "America/Lima"), ("52", "America/Mexico_City"), ("54", "America/Argentina/Buenos_Aires"), ("55", "America/Sao_Paulo"),
        ("56", "America/Santiago"), ("57", "America/Bogota"), ("60", "Asia/Kuala_Lumpur"), ("61", "Australia/Sydney"), ("62", "Asia/Jakarta"),
        ("63", "Asia/Manila"), ("64", "Pacific/Auckland"), ("65", "Asia/Singapore"), ("66", "Asia/Bangkok"), ("81", "Asia/Tokyo"),
        ("82", "Asia/Seoul"), ("84", "Asia/Ho_Chi_Minh"), ("86", "Asia/Shanghai"), ("90", "Europe/Istanbul"), ("91", "Asia/Kolkata"),
        ("92", "Asia/Karachi"), ("234", "Africa/Lagos"), ("254", "Africa/Nairobi"), ("351", "Europe/Lisbon"), ("353", "Europe/Dublin"),
        ("358", "Europe/Helsinki"), ("380", "Europe/Kyiv"), ("420", "Europe/Prague"), ("852", "Asia/Hong_Kong"), ("886", "Asia/Taipei"),
        ("966", "Asia/Riyadh"), ("971", "Asia/Dubai"), ("972", "Asia/Jerusalem"),
    ];

    /// <summary>The zone to use: the operator's choice when valid, else the number's, else UTC; and where it came from.</summary>
    public static (TimeZoneInfo Zone, bool Derived) For(string number, string? chosen)
    {
        if (chosen is not null && TryFind(chosen, out var set))
        {
            return (set, false);
        }

        return (Derive(number) is { } id && TryFind(id, out var derived) ? derived : TimeZoneInfo.Utc, true);
    }

    /// <summary>The IANA zone of the number's calling code (longest match), or null.</summary>
    public static string? Derive(string number)
    {
        var digits = number.TrimStart('+');
        return ByCallingCode.Where(c => digits.StartsWith(c.Code, StringComparison.Ordinal)).OrderByDescending(c => c.Code.Length).Select(c => c.Zone).FirstOrDefault();
    }

    public static bool TryFind(string id, out TimeZoneInfo zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }
}
