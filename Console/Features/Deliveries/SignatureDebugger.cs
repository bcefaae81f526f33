using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>How a pasted signature compares with what was sent.</summary>
public enum SignatureVerdict
{
    /// <summary>Nothing pasted: only what was signed is shown.</summary>
    NotChecked,
    Matches,
    /// <summary>Not <c>v1,</c> + base64 of 32 bytes (or several such, space-separated).</summary>
    Malformed,
    /// <summary>What the endpoint's current secret gives, but the attempt was signed with an earlier one.</summary>
    CurrentSecretButRotatedSince,
    /// <summary>Matches the body after re-serialization: the receiver signed parsed-and-rewritten JSON, not the bytes received.</summary>
    BodyChanged,
    /// <summary>Matches nothing this console can compute: another secret.</summary>
    WrongSecret,
}

/// <summary>What the signature debugger shows for one attempt.</summary>
public sealed record SignatureReport(
    string MessageId,
    long Timestamp,
    string SignedString,
    string SentSignature,
    bool SignedWithCurrentSecret,
    /// <summary>Which secret versions made the signatures sent, in words ("v3, the current secret"; "v2, the previous secret, signing until …").</summary>
    string SignedBy,
    TimeSpan TimestampAgeAtSend,
    SignatureVerdict Verdict,
    string Explanation);

/// <summary>
/// The signature debugger: shows exactly what an attempt signed (<c>id.timestamp.body</c>, Standard
/// Webhooks), whether the endpoint's current secret produced the signature that was sent, and for a
/// signature a customer's receiver computed, whether it matches and if not the likely reason (wrong
/// or rotated secret, body re-serialized, malformed header). The secret itself never leaves the
/// service; the HMACs it computes are over the recorded message only.
/// </summary>
public sealed class SignatureDebugger(IDbContextFactory<AppDbContext> dbFactory, EndpointSecrets secrets)
{
    /// <summary>How far the Standard Webhooks libraries let a timestamp be from the receiver's clock.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public async Task<SignatureReport> CheckAsync(Caller caller, Guid deliveryId, Guid attemptId, string? pasted, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var attempt = await db.DeliveryAttempts.AsNoTracking()
                .Where(a => a.Id == attemptId && a.DeliveryId == deliveryId && a.WorkspaceId == caller.WorkspaceId)
                .Select(a => new { a.EndpointId, a.RequestHeadersJson, a.RequestBody, a.StartedAt })
                .FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("Attempt not found.");
        var endpoint = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Id == attempt.EndpointId && e.WorkspaceId == caller.WorkspaceId)
            .Select(e => new { e.SecretProtected, e.SecretVersion, e.PreviousSecretProtected, e.PreviousSecretUntil }).FirstOrDefaultAsync(cancellationToken);

        var headers = AttemptTools.Headers(attempt.RequestHeadersJson).ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        var id = headers.GetValueOrDefault("webhook-id") ?? "";
        var timestamp = long.TryParse(headers.GetValueOrDefault("webhook-timestamp"), out var t) ? t : 0;
        var sent = headers.GetValueOrDefault("webhook-signature") ?? "";
        var sentSignatures = sent.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var body = attempt.RequestBody;

        // Every secret the endpoint still knows, newest first, with its version: the current one and the one it replaced.
        var known = new List<KnownSecret>();
        if (endpoint is not null)
        {
            known.Add(new KnownSecret(endpoint.SecretVersion, secrets.Unprotect(endpoint.SecretProtected), "the current secret"));
            if (endpoint.PreviousSecretProtected is { } previous)
            {
                known.Add(new KnownSecret(endpoint.SecretVersion - 1, secrets.Unprotect(previous),
                    $"the previous secret, signing beside it until {endpoint.PreviousSecretUntil:yyyy-MM-dd HH:mm} UTC"));
            }
        }

        var signatures = known.ToDictionary(k => k, k => WebhookSignature.Sign(k.Secret, id, timestamp, body));
        var signers = known.Where(k => sentSignatures.Contains(signatures[k])).ToList();
        var signedBy = signers.Count > 0
            ? string.Join(" and ", signers.Select(k => $"v{k.Version}, {k.Description}"))
            : known.Count == 0 ? "unknown: the endpoint was deleted" : $"a secret before v{known[^1].Version} (rotated away since)";
        var signedWithCurrent = signers.Any(k => k == known[0]);
        var age = DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime - attempt.StartedAt;

        var (verdict, explanation) = Judge(pasted?.Trim(), sentSignatures, known, signatures, signers, id, timestamp, body);
        return new SignatureReport(id, timestamp, $"{id}.{timestamp}.{body}", sent, signedWithCurrent, signedBy, age.Duration(), verdict, explanation);
    }

    private sealed record KnownSecret(int Version, string Secret, string Description);

    private static (SignatureVerdict, string) Judge(string? pasted, string[] sentSignatures, List<KnownSecret> known, Dictionary<KnownSecret, string> signatures,
        List<KnownSecret> signers, string id, long timestamp, string body)
    {
        if (string.IsNullOrEmpty(pasted))
        {
            return (SignatureVerdict.NotChecked, "Paste the webhook-signature your receiver computed for this message to compare it.");
        }

        // Several signatures may be sent space-separated; any well-formed one may match. A bare base64 value is read as v1.
        var candidates = pasted.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(c => c.Contains(',') ? c : "v1," + c)
            .Where(IsV1)
            .ToList();
        if (candidates.Count == 0)
        {
            return (SignatureVerdict.Malformed, "That is not a Standard Webhooks signature: expected v1, followed by the base64 of a 32-byte HMAC-SHA256 (several may be separated by spaces).");
        }

        if (candidates.Any(c => sentSignatures.Contains(c)))
        {
            var by = signers.FirstOrDefault(k => candidates.Contains(signatures[k]));
            var which = by is null ? "" : $" It is secret v{by.Version}'s ({by.Description}).";
            var switchNow = by is not null && by != known[0] ? " The receiver still uses the old secret: switch it to the current one before the grace period ends, or it will reject every delivery then." : "";
            return (SignatureVerdict.Matches, $"It matches the signature that was sent: the receiver computes it right.{which}{switchNow} If it still rejects the webhook, check its clock (the timestamp must be within 5 minutes) and that it reads the webhook-id and webhook-timestamp headers it was sent.");
        }

        if (known.FirstOrDefault(k => !signers.Contains(k) && candidates.Contains(signatures[k])) is { } later)
        {
            return (SignatureVerdict.CurrentSecretButRotatedSince, $"It is what secret v{later.Version} ({later.Description}) gives, but this attempt was not signed with it: the secret was rotated after this attempt. Resend the delivery to have it signed with the current secret.");
        }

        if (known.Any(k => Reserialized(body).Any(variant => candidates.Contains(WebhookSignature.Sign(k.Secret, id, timestamp, variant)))))
        {
            return (SignatureVerdict.BodyChanged, "It matches the body only after the JSON was parsed and written again (whitespace or key order changed): the receiver must sign the raw request body, byte for byte, before parsing it.");
        }

        return (SignatureVerdict.WrongSecret, "It does not match: the receiver most likely uses another secret (another endpoint's, or one rotated away; secrets start with whsec_ and the part after it is base64-decoded into the key), or signs something other than id.timestamp.body.");
    }

    private static bool IsV1(string candidate)
    {
        if (!candidate.StartsWith("v1,", StringComparison.Ordinal))
        {
            return false;
        }

        var buffer = new byte[64];
        return Convert.TryFromBase64String(candidate[3..], buffer, out var written) && written == 32;
    }

    /// <summary>The body as common JSON libraries would write it back: minified and indented.</summary>
    private static IEnumerable<string> Reserialized(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            yield break;
        }

        using (document)
        {
            yield return JsonSerializer.Serialize(document.RootElement);
            yield return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
    }
}
