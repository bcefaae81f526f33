using System.Text.Json;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Finds, in the first bytes of a batch body too large to read whole, the events already known to
/// be over the single-event limit: a complete one larger than it, or the one cut off at the end
/// whose part seen is. The JSON is read as far as it goes; anything it cannot read ends the scan.
/// </summary>
public static class BatchScan
{
    public static IReadOnlyList<int> OversizedItems(ReadOnlySpan<byte> prefix, long itemLimit)
    {
        var found = new List<int>();
        var reader = new Utf8JsonReader(prefix, isFinalBlock: false, state: default);
        var inEvents = false;
        var index = -1;
        long start = -1;
        try
        {
            while (reader.Read())
            {
                if (!inEvents)
                {
                    if (reader is { TokenType: JsonTokenType.PropertyName, CurrentDepth: 1 } && reader.ValueTextEquals("events"u8))
                    {
                        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                        {
                            break;
                        }

                        inEvents = true;
                    }

                    continue;
                }

                switch (reader.CurrentDepth, reader.TokenType)
                {
                    case (1, JsonTokenType.EndArray):
                        return found;
                    case (2, JsonTokenType.StartObject or JsonTokenType.StartArray):
                        index++;
                        start = reader.TokenStartIndex;
                        break;
                    case (2, JsonTokenType.EndObject or JsonTokenType.EndArray):
                        Check(reader.BytesConsumed - start);
                        start = -1;
                        break;
                    case (2, _):
                        index++;
                        Check(reader.BytesConsumed - reader.TokenStartIndex);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return found;
        }

        // The event the prefix ends in is at least as large as its part seen.
        if (inEvents && start >= 0)
        {
            Check(prefix.Length - start);
        }

        return found;

        void Check(long size)
        {
            if (size > itemLimit)
            {
                found.Add(index);
            }
        }
    }
}
