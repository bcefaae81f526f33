using System.Text.Json;
using System.Text.RegularExpressions;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// Reads a JSON object body with a size limit and typed accessors that collect every problem,
/// so bad input gets one clear answer in the group's envelope and nothing is stored.
/// </summary>
public sealed partial class JsonBody
{
    private readonly List<FieldError> _errors = [];

    private JsonBody(JsonElement root) => Root = root;

    /// <summary>Reads a nested object (an item of a batch) with the same accessors; its problems are its own.</summary>
    public static JsonBody Of(JsonElement element) => new(element);

    public IReadOnlyList<FieldError> Errors => _errors;

    public JsonElement Root { get; }

    /// <summary>
    /// Reads the request's JSON object body within the route's size limit (<see cref="RequestBody"/>):
    /// a larger one is a 413, an empty one a 400 unless <paramref name="allowEmpty"/>.
    /// </summary>
    public static async Task<JsonBody> ReadAsync(HttpRequest request, bool allowEmpty = false) =>
        Of(request, await RequestBody.ReadAsync(request.HttpContext), allowEmpty);

    /// <summary>A body already read (within its limit): checked as <see cref="ReadAsync"/> checks it.</summary>
    public static JsonBody Of(HttpRequest request, ReadOnlyMemory<byte> bytes, bool allowEmpty = false)
    {
        if (bytes.Length == 0)
        {
            if (allowEmpty)
            {
                return new JsonBody(JsonDocument.Parse("{}").RootElement);
            }

            throw new ValidationException("body", "body", "A JSON object body is required", "missing");
        }

        RequireJsonContentType(request);
        return new JsonBody(Parse(bytes));
    }

    /// <summary>
    /// Parses and checks a whole JSON document: well-formed UTF-8 without a byte order mark, at most
    /// 64 levels deep, no duplicate keys, every string and key valid Unicode (no lone surrogates)
    /// without NUL characters. Anything else is a validation error naming where it is.
    /// </summary>
    public static JsonElement Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (JsonException exception)
        {
            throw new ValidationException("body", "body", $"Malformed JSON: {exception.Message}", "json_invalid");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new ValidationException("body", "body", "The body must be a JSON object", "model_attributes_type");
        }

        if (FindBadText(document.RootElement, "$") is { } problem)
        {
            throw new ValidationException("body", "body", problem, "string_unicode");
        }

        return document.RootElement;
    }

    /// <summary>Where the first string or key that is not valid text is, and why; null when all are.</summary>
    private static string? FindBadText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (BadText(() => property.Name) is { } keyProblem)
                    {
                        return $"A key under {path} {keyProblem}";
                    }

                    if (FindBadText(property.Value, $"{path}.{property.Name}") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindBadText(item, $"{path}[{index++}]") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonValueKind.String:
                // Without escapes a string is its raw bytes, checked in place: valid UTF-8 cannot
                // hold a NUL or a surrogate unescaped (a large payload's text is not decoded for this).
                var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    return System.Text.Unicode.Utf8.IsValid(raw) ? null : $"The string at {path} {NotText}";
                }

                return BadText(() => element.GetString()!) is { } valueProblem ? $"The string at {path} {valueProblem}" : null;
            default:
                return null;
        }
    }

    private const string NotText = "is not valid UTF-8 or holds an unpaired surrogate escape (\\ud800…\\udfff).";

    private static string? BadText(Func<string> read)
    {
        string text;
        try
        {
            text = read();
        }
        catch (InvalidOperationException)
        {
            return NotText;
        }

        return TextProblem(text);
    }

    /// <summary>Why a decoded string is not text the console accepts (a NUL, an unpaired surrogate), or null.</summary>
    public static string? TextProblem(string text)
    {
        if (text.Contains('\0'))
        {
            return "contains a NUL character (\\u0000), which is not accepted.";
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogate(text[i]) && !(char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[++i])))
            {
                return "holds an unpaired surrogate escape (\\ud800…\\udfff).";
            }
        }

        return null;
    }

    /// <summary>A body must be JSON: a Content-Type, when given, is application/json or a +json type, in UTF-8.</summary>
    private static void RequireJsonContentType(HttpRequest request)
    {
        if (string.IsNullOrEmpty(request.ContentType))
        {
            return;
        }

        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !(type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || type.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true)
            || (type.Charset.HasValue && !(type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || type.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))))
        {
            throw new UnsupportedMediaTypeException($"Content-Type '{request.ContentType}' is not accepted: send the body as JSON with Content-Type: application/json (UTF-8).");
        }
    }

    public bool Has(string name) => Root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name, bool required = false, int maxLength = 1000)
    {
        if (!Root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(name, "Field required", "missing");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Fail(name, "Input should be a valid string", "string_type");
            return null;
        }

        var text = value.GetString()!.Trim();
        if (required && text.Length == 0)
        {
            Fail(name, "Field required", "missing");
            return null;
        }

        if (text.Length > maxLength)
        {
            Fail(name, $"String should have at most {maxLength} characters", "string_too_long");
            return null;
        }

        return text;
    }

    public bool? Bool(string name)
    {
        if (!Root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Fail(name, "Input should be a valid boolean", "bool_type");
            return null;
        }

        return value.GetBoolean();
    }

    public int? Int(string name, int min, int max)
    {
        if (!Root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            Fail(name, "Input should be a valid integer", "int_type");
            return null;
        }

        if (number < min || number > max)
        {
            Fail(name, $"Input should be between {min} and {max}", "range");
            return null;
        }

        return number;
    }

    public List<string>? StringList(string name, int maxItems = 100, int maxLength = 100)
    {
        if (!Root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            Fail(name, "Input should be a list of strings", "list_type");
            return null;
        }

        var items = value.EnumerateArray().Select(e => e.GetString()!.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        if (items.Count > maxItems || items.Any(i => i.Length > maxLength))
        {
            Fail(name, $"At most {maxItems} items of at most {maxLength} characters", "too_long");
            return null;
        }

        return items;
    }

    /// <summary>A nested JSON object, returned as its raw text; absent gives <paramref name="defaultJson"/>.</summary>
    public string? ObjectJson(string name, bool required = false, string? defaultJson = null)
    {
        if (!Root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(name, "Field required", "missing");
            }

            return defaultJson;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            Fail(name, "Input should be an object", "dict_type");
            return null;
        }

        return value.GetRawText();
    }

    public DateTime? Timestamp(string name, bool required = false)
    {
        var text = String(name, required, 64);
        if (text is null)
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
        {
            Fail(name, "Input should be an ISO-8601 timestamp, e.g. 2026-01-15T09:30:00Z", "datetime_parsing");
            return null;
        }

        return parsed.UtcDateTime;
    }

    /// <summary>A phone number in E.164 form: + and 8 to 15 digits, the first not zero.</summary>
    public string? PhoneNumber(string name, bool required = false)
    {
        var text = String(name, required, 32);
        if (text is not null && !E164().IsMatch(text))
        {
            Fail(name, "Input should be a phone number in E.164 format, e.g. +12015551234", "e164");
            return null;
        }

        return text;
    }

    public static bool IsE164(string? value) => value is not null && E164().IsMatch(value);

    public void Fail(string name, string message, string type) => _errors.Add(new FieldError(["body", name], message, type));

    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            throw new ValidationException(_errors);
        }
    }

    [GeneratedRegex(@"^\+[1-9]\d{7,14}$")]
    private static partial Regex E164();
}
