using System.Text.RegularExpressions;
using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>How a payload search compares the value at its path.</summary>
public enum PayloadOperator
{
    /// <summary><c>=</c>: the value, as text (a string without its quotes, a number as written, true/false/null).</summary>
    Equals,
    /// <summary><c>!=</c>: anything else, a missing path included.</summary>
    NotEquals,
    /// <summary><c>~</c>: contains the text, ignoring case.</summary>
    Contains,
}

/// <summary>
/// A search inside the payload that was sent: <c>$.data.call.to_number = +15550001111</c>,
/// <c>$.data.call.status != COMPLETED</c>, <c>$.data.call.summary ~ refund</c>. The path is a JSON path of
/// object keys and array indexes (<c>$.items[0].sku</c>); the database evaluates it row by row
/// (SQLite's <c>json_extract</c>, PostgreSQL's <c>json_extract_path_text</c>) inside the other
/// filters, so its cost is the number of deliveries it must read: it needs a time window of at
/// most <see cref="MaxWindow"/> and at most <see cref="MaxRows"/> deliveries in it.
/// </summary>
public sealed partial record PayloadSearch(string Path, IReadOnlyList<string> Segments, PayloadOperator Operator, string Value)
{
    /// <summary>The longest time window a payload search may cover.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(7);

    /// <summary>The most deliveries a payload search may read (counted from the hourly rollups before it runs).</summary>
    public const long MaxRows = 1_000_000;

    /// <summary>What the UI says of the limits.</summary>
    public static readonly string Limits = $"Payload search reads every delivery of the time range (at most 7 days and {MaxRows:N0} deliveries; narrow it with the other filters).";

    public const string Example = "$.data.call.to_number = +15550001111";

    [GeneratedRegex(@"^\$((\.[A-Za-z_][A-Za-z0-9_\-]{0,99})|(\[[0-9]{1,4}\]))+$")]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[([0-9]+)\]")]
    private static partial Regex SegmentPattern();

    /// <summary>Reads <c>path op value</c>; a <see cref="ValidationException"/> in plain words when it is not one.</summary>
    public static PayloadSearch Parse(string text)
    {
        text = text.Trim();
        if (text.Length > 600)
        {
            throw Invalid("is too long (600 characters at most)");
        }

        var (at, length, op) = FindOperator(text);
        if (at < 0)
        {
            throw Invalid($"needs a path, an operator (=, != or ~) and a value, as in {Example}");
        }

        var path = text[..at].Trim();
        var value = text[(at + length)..].Trim();
        if (!PathPattern().IsMatch(path) || path.Length > 300)
        {
            throw Invalid($"'{path}' is not a JSON path: start with $ and name keys with .name and array items with [0], as in $.data.call.to_number");
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        if (value.Length == 0)
        {
            throw Invalid("needs a value after the operator");
        }

        var segments = SegmentPattern().Matches(path).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToList();
        return new PayloadSearch(path, segments, op, value);
    }

    /// <summary>The first operator outside the path: <c>!=</c>, <c>=</c> or <c>~</c>.</summary>
    private static (int At, int Length, PayloadOperator Op) FindOperator(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '!' when i + 1 < text.Length && text[i + 1] == '=':
                    return (i, 2, PayloadOperator.NotEquals);
                case '=':
                    return (i, 1, PayloadOperator.Equals);
                case '~':
                    return (i, 1, PayloadOperator.Contains);
            }
        }

        return (-1, 0, default);
    }

    private static ValidationException Invalid(string what) => new("query", "payload", $"The payload search {what}.", "value_error");

    private bool IsJsonLiteral => Value is "true" or "false" or "null";

    /// <summary>
    /// The deliveries whose payload matches, as a base query the other filters compose onto (the
    /// database folds it into their statement and keeps using their indexes). Values are parameters.
    /// </summary>
    public IQueryable<Delivery> Apply(AppDbContext db)
    {
        // Only fixed SQL text is put together here; the path, its segments and the value are parameters {0} and {1}.
        var pattern = "%" + Value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        if (db.IsPostgres())
        {
            // json, not jsonb: the text is only scanned as far as the path, not converted whole.
            const string Text = """json_extract_path_text("PayloadJson"::json, VARIADIC {0})""";
            var condition = Operator switch
            {
                PayloadOperator.Equals when Value == "null" => """json_typeof(json_extract_path("PayloadJson"::json, VARIADIC {0})) = {1}""",
                PayloadOperator.Equals => Text + " = {1}",
                PayloadOperator.NotEquals => Text + " IS DISTINCT FROM {1}",
                _ => Text + " ILIKE {1} ESCAPE '\\'",
            };
#pragma warning disable EF1003 // The SQL is put together from the constants above only; every value is a parameter.
            return db.Deliveries.FromSqlRaw("SELECT * FROM deliveries WHERE " + condition, Segments.ToArray(), Operator == PayloadOperator.Contains ? pattern : Value);
#pragma warning restore EF1003
        }

        // SQLite: json_extract gives SQL values (true and false as 1 and 0), so literals compare by json_type.
        const string SqliteText = """CAST(json_extract("PayloadJson", {0}) AS TEXT)""";
        const string SqliteType = """json_type("PayloadJson", {0})""";
        var sqlite = Operator switch
        {
            PayloadOperator.Equals when IsJsonLiteral => SqliteType + " = {1}",
            PayloadOperator.NotEquals when IsJsonLiteral => SqliteType + " IS NOT {1}",
            // "1" and "0" must not match true and false.
            PayloadOperator.Equals when Value is "1" or "0" => SqliteText + " = {1} AND " + SqliteType + " NOT IN ('true', 'false')",
            PayloadOperator.Equals => SqliteText + " = {1}",
            PayloadOperator.NotEquals => SqliteText + " IS NOT {1}",
            _ => SqliteText + " LIKE {1} ESCAPE '\\'",
        };
#pragma warning disable EF1003 // As above: constants only.
        return db.Deliveries.FromSqlRaw("SELECT * FROM deliveries WHERE " + sqlite, Path, Operator == PayloadOperator.Contains ? pattern : Value);
#pragma warning restore EF1003
    }
}
