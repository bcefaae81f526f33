using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>A list answer without a documented envelope: <c>{"data": [...]}</c>.</summary>
public sealed record DataList<T>(IReadOnlyList<T> Data);

/// <summary>Serializer settings of the API groups: camelCase or snake_case, timestamps as UTC ISO-8601 with a Z.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions CamelCase = Create(JsonNamingPolicy.CamelCase);
    public static readonly JsonSerializerOptions SnakeCase = Create(JsonNamingPolicy.SnakeCaseLower);

    private static JsonSerializerOptions Create(JsonNamingPolicy naming)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = naming,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new UtcDateTimeConverter());
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static string Format(DateTime value) =>
        DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private sealed class UtcDateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().UtcDateTime;

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Format(value));
    }
}
