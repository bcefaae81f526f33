using System.Text.Json;
using System.Text.Json.Nodes;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>Refreshes what goes stale in a payload before it is sent again (time-limited links).</summary>
public interface IPayloadEnricher
{
    string Enrich(string payloadJson, string? callId);
}

/// <summary>
/// Signs recording links: an authenticated, expiring token (ASP.NET Core Data Protection, HMAC
/// inside) naming the call. Links are served under /v1/recordings/{callId}?token=….
/// </summary>
public sealed class RecordingLinkSigner(IDataProtectionProvider provider, IOptionsMonitor<DeliveryOptions> options, TimeProvider clock)
{
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("DeliveryConsole.RecordingLink.v1").ToTimeLimitedDataProtector();

    public string LinkFor(string callId)
    {
        var settings = options.CurrentValue;
        var token = _protector.Protect(callId, clock.GetUtcNow() + settings.RecordingLinkLifetime);
        return $"{settings.PublicBaseUrl.TrimEnd('/')}/v1/recordings/{Uri.EscapeDataString(callId)}?token={Uri.EscapeDataString(token)}";
    }

    /// <summary>True when the token was made here, names this call and has not expired.</summary>
    public bool IsValid(string callId, string token)
    {
        try
        {
            return _protector.Unprotect(token, out var expiration) == callId && expiration > clock.GetUtcNow();
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}

/// <summary>The built-in enricher: every <c>recording_url</c> in the payload gets a freshly signed link for the delivery's call.</summary>
public sealed class RecordingUrlEnricher(RecordingLinkSigner signer) : IPayloadEnricher
{
    public string Enrich(string payloadJson, string? callId)
    {
        if (callId is null || !payloadJson.Contains("\"recording_url\"", StringComparison.Ordinal))
        {
            return payloadJson;
        }

        var root = JsonNode.Parse(payloadJson);
        if (root is null)
        {
            return payloadJson;
        }

        var link = signer.LinkFor(callId);
        Replace(root, link);
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static void Replace(JsonNode node, string link)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (name == "recording_url" && value is JsonValue)
                    {
                        obj[name] = link;
                    }
                    else if (value is not null)
                    {
                        Replace(value, link);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array.Where(i => i is not null))
                {
                    Replace(item!, link);
                }

                break;
        }
    }
}
