using System.Text.Json;
using System.Text.Json.Nodes;
using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>Refreshes what goes stale in a payload before it is sent again (time-limited links).</summary>
public interface IPayloadEnricher
{
    /// <summary>The payload of a delivery of <paramref name="workspaceId"/> about <paramref name="callId"/>, with its links signed afresh.</summary>
    Task<string> EnrichAsync(string payloadJson, Guid workspaceId, string? callId, CancellationToken cancellationToken = default);
}

/// <summary>
/// Signs recording links: an authenticated, expiring token (ASP.NET Core Data Protection, HMAC
/// inside) naming the workspace and the call. Links are served under /v1/recordings/{callId}?token=…,
/// and the route serves only a call of the workspace the token names.
/// </summary>
public sealed class RecordingLinkSigner(IDataProtectionProvider provider, IOptionsMonitor<DeliveryOptions> options, TimeProvider clock)
{
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("DeliveryConsole.RecordingLink.v2").ToTimeLimitedDataProtector();

    public string LinkFor(Guid workspaceId, string callId)
    {
        var settings = options.CurrentValue;
        var token = _protector.Protect($"{workspaceId:N}/{callId}", clock.GetUtcNow() + settings.RecordingLinkLifetime);
        return $"{settings.PublicBaseUrl.TrimEnd('/')}/v1/recordings/{Uri.EscapeDataString(callId)}?token={Uri.EscapeDataString(token)}";
    }

    /// <summary>The workspace a token was made for, when it was made here, names this call and has not expired.</summary>
    public Guid? WorkspaceOf(string callId, string token)
    {
        try
        {
            var claim = _protector.Unprotect(token, out var expiration);
            var slash = claim.IndexOf('/');
            return slash == 32 && claim[(slash + 1)..] == callId && expiration > clock.GetUtcNow() && Guid.TryParseExact(claim[..slash], "N", out var workspaceId)
                ? workspaceId
                : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>
/// The built-in enricher: every <c>recording_url</c> in the payload gets a freshly signed link for
/// the delivery's call, and only when that call belongs to the delivery's workspace; otherwise
/// the links are cleared (null), so no payload ever carries a working link to another
/// workspace's recording.
/// </summary>
public sealed class RecordingUrlEnricher(RecordingLinkSigner signer, IDbContextFactory<AppDbContext> dbFactory) : IPayloadEnricher
{
    public async Task<string> EnrichAsync(string payloadJson, Guid workspaceId, string? callId, CancellationToken cancellationToken = default)
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

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ownCall = await db.Calls.AnyAsync(c => c.Id == callId && c.WorkspaceId == workspaceId, cancellationToken);
        var link = ownCall ? signer.LinkFor(workspaceId, callId) : null;

        Replace(root, link);
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static void Replace(JsonNode node, string? link)
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
