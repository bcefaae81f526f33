using System.Text.Encodings.Web;
using System.Text.Json;

namespace DeliveryConsole.Features.Deliveries;

public static class PrettyJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Indented JSON when <paramref name="text"/> parses as JSON; the text unchanged otherwise.</summary>
    public static string Format(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return text ?? "";
        }

        var trimmed = text.TrimStart();
        if (trimmed[0] is not ('{' or '['))
        {
            return text;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return text;
        }
    }
}
