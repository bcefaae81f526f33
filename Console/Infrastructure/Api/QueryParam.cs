namespace DeliveryConsole.Infrastructure.Api;

public enum QueryParamKind
{
    Integer,
    String,
    Boolean,
    Date,
    Enum,
}

/// <summary>
/// One query parameter of a route: its name, kind, bounds, default and meaning. The same
/// definition is read by <see cref="QueryReader"/> (so the bounds checked are the bounds
/// documented) and, as endpoint metadata, written into the OpenAPI document.
/// </summary>
public sealed record QueryParam(string Name, QueryParamKind Kind, string Description)
{
    public long? Minimum { get; init; }
    public long? Maximum { get; init; }
    public string? Default { get; init; }
    public int? MaxLength { get; init; }
    public IReadOnlyList<string>? Values { get; init; }
    /// <summary>Values above <see cref="Maximum"/> are capped to it instead of refused.</summary>
    public bool CapAtMaximum { get; init; }

    public static QueryParam Integer(string name, string description, long minimum, long? maximum = null, int? @default = null, bool capAtMaximum = false) =>
        new(name, QueryParamKind.Integer, description) { Minimum = minimum, Maximum = maximum, Default = @default?.ToString(System.Globalization.CultureInfo.InvariantCulture), CapAtMaximum = capAtMaximum };

    public static QueryParam Text(string name, string description, int maxLength = 200) =>
        new(name, QueryParamKind.String, description) { MaxLength = maxLength };

    public static QueryParam OneOf(string name, string description, IReadOnlyList<string> values, string? @default = null) =>
        new(name, QueryParamKind.Enum, description) { Values = values, Default = @default };

    public static QueryParam Day(string name, string description) => new(name, QueryParamKind.Date, description);

    public static QueryParam Flag(string name, string description, bool @default) =>
        new(name, QueryParamKind.Boolean, description) { Default = @default ? "true" : "false" };
}

public static class QueryParamExtensions
{
    /// <summary>Documents the query parameters a route reads (the same definitions its handler passes to <see cref="QueryReader"/>).</summary>
    public static RouteHandlerBuilder WithQuery(this RouteHandlerBuilder builder, params QueryParam[] parameters) =>
        builder.WithMetadata([.. parameters]);
}
