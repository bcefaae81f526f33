using System.Globalization;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// Reads query parameters by hand so that a malformed or out-of-range value becomes a
/// <see cref="ValidationException"/> naming the parameter, in the group's envelope, never a
/// framework 400. Collects every problem, then <see cref="ThrowIfInvalid"/> reports them together.
/// </summary>
public sealed class QueryReader(IQueryCollection query)
{
    private readonly List<FieldError> _errors = [];

    public IReadOnlyList<FieldError> Errors => _errors;

    public string? String(string name, int maxLength = 200)
    {
        var value = query[name].ToString();
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            Fail(name, $"String should have at most {maxLength} characters", "string_too_long");
            return null;
        }

        if (JsonBody.TextProblem(value) is { } problem)
        {
            Fail(name, $"The value {problem}", "string_unicode");
            return null;
        }

        return value.Trim();
    }

    /// <summary>An integer with bounds; absent gives <paramref name="defaultValue"/>. With <paramref name="capAtMax"/>, values above max are capped instead of refused.</summary>
    public int Int(string name, int defaultValue, int min, int max, bool capAtMax = false) =>
        OptionalInt(name, min, max, capAtMax) ?? defaultValue;

    public int? OptionalInt(string name, int min, int max, bool capAtMax = false)
    {
        var raw = query[name].ToString();
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (!int.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Fail(name, "Input should be a valid integer, unable to parse string as an integer", "int_parsing");
            return null;
        }

        if (value < min)
        {
            Fail(name, $"Input should be greater than or equal to {min}", "greater_than_equal");
            return null;
        }

        if (value > max)
        {
            if (capAtMax)
            {
                return max;
            }

            Fail(name, $"Input should be less than or equal to {max}", "less_than_equal");
            return null;
        }

        return value;
    }

    public bool Bool(string name, bool defaultValue)
    {
        var raw = query[name].ToString();
        if (string.IsNullOrWhiteSpace(raw))
        {
            return defaultValue;
        }

        switch (raw.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on": return true;
            case "false" or "0" or "no" or "off": return false;
            default:
                Fail(name, "Input should be a valid boolean", "bool_parsing");
                return defaultValue;
        }
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive), returned in its canonical spelling.</summary>
    public string? OneOf(string name, IReadOnlyCollection<string> allowed)
    {
        var raw = String(name);
        if (raw is null)
        {
            return null;
        }

        var match = allowed.FirstOrDefault(a => string.Equals(a, raw, StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            Fail(name, $"Input should be one of: {string.Join(", ", allowed)}", "enum");
        }

        return match;
    }

    public DateOnly? Date(string name)
    {
        var raw = String(name);
        if (raw is null)
        {
            return null;
        }

        if (!DateOnly.TryParseExact(raw, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            Fail(name, "Input should be a valid date in the format YYYY-MM-DD", "date_from_datetime_parsing");
            return null;
        }

        return date;
    }

    /// <summary>An integer parameter by its documented definition: its bounds and default.</summary>
    public int Int(QueryParam parameter) =>
        OptionalInt(parameter.Name, (int)(parameter.Minimum ?? int.MinValue), (int)(parameter.Maximum ?? int.MaxValue), parameter.CapAtMaximum)
        ?? int.Parse(parameter.Default ?? throw new InvalidOperationException($"{parameter.Name} has no default"), System.Globalization.CultureInfo.InvariantCulture);

    public int? OptionalInt(QueryParam parameter) =>
        OptionalInt(parameter.Name, (int)(parameter.Minimum ?? int.MinValue), (int)(parameter.Maximum ?? int.MaxValue), parameter.CapAtMaximum);

    public string? String(QueryParam parameter) => String(parameter.Name, parameter.MaxLength ?? 200);

    public string? OneOf(QueryParam parameter) => OneOf(parameter.Name, parameter.Values ?? []) ?? parameter.Default;

    public DateOnly? Date(QueryParam parameter) => Date(parameter.Name);

    public bool Bool(QueryParam parameter) => Bool(parameter.Name, parameter.Default == "true");

    public void Fail(string name, string message, string type) => _errors.Add(new FieldError(["query", name], message, type));

    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            throw new ValidationException(_errors);
        }
    }
}
