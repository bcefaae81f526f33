using System.Text;
using System.Text.Json;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>What the attempt viewer derives from a recorded attempt: its headers, a cURL command, and a line diff of two payloads.</summary>
public static class AttemptTools
{
    /// <summary>The recorded headers (a JSON object of name → value), in order; empty when absent or not an object.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            return document.RootElement.EnumerateObject()
                .Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
                .ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>
    /// A cURL command that sends exactly what this attempt sent: the URL, every header (the signature
    /// headers included, so a receiver verifies it as it verified the original) and the body byte for
    /// byte, single-quoted for a POSIX shell.
    /// </summary>
    public static string Curl(AttemptView attempt)
    {
        var command = new StringBuilder("curl -X POST ").Append(Quote(attempt.RequestUrl));
        foreach (var (name, value) in Headers(attempt.RequestHeadersJson))
        {
            command.Append(" \\\n  -H ").Append(Quote($"{name}: {value}"));
        }

        return command.Append(" \\\n  --data-raw ").Append(Quote(attempt.RequestBody)).ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>One line of a diff: kept (' '), removed ('-') or added ('+').</summary>
    public sealed record DiffLine(char Kind, string Text);

    /// <summary>
    /// The lines of <paramref name="after"/> against <paramref name="before"/> (JSON pretty-printed
    /// first, so a re-serialized payload compares by content), by longest common subsequence. Texts
    /// beyond 2,000 lines each are compared as wholes.
    /// </summary>
    public static IReadOnlyList<DiffLine> Diff(string before, string after)
    {
        var a = PrettyJson.Format(before).Split('\n');
        var b = PrettyJson.Format(after).Split('\n');
        if (a.Length > 2000 || b.Length > 2000)
        {
            return [.. a.Select(l => new DiffLine('-', l)), .. b.Select(l => new DiffLine('+', l))];
        }

        var lengths = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lengths[i, j] = a[i] == b[j] ? lengths[i + 1, j + 1] + 1 : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
            }
        }

        var lines = new List<DiffLine>();
        int x = 0, y = 0;
        while (x < a.Length && y < b.Length)
        {
            if (a[x] == b[y])
            {
                lines.Add(new DiffLine(' ', a[x++]));
                y++;
            }
            else if (lengths[x + 1, y] >= lengths[x, y + 1])
            {
                lines.Add(new DiffLine('-', a[x++]));
            }
            else
            {
                lines.Add(new DiffLine('+', b[y++]));
            }
        }

        lines.AddRange(a.Skip(x).Select(l => new DiffLine('-', l)));
        lines.AddRange(b.Skip(y).Select(l => new DiffLine('+', l)));
        return lines;
    }
}
