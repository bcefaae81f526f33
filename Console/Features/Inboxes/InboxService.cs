using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Inboxes;

/// <summary>An inbox as the console shows it.</summary>
public sealed record InboxView(
    Guid Id,
    string Name,
    string Url,
    Guid? EndpointId,
    string? EndpointName,
    int AnswerStatus,
    int AnswerDelayMs,
    DateTime ExpiresAt,
    string CreatedBy,
    DateTime CreatedAt,
    long ReceivedCount,
    DateTime? LastReceivedAt)
{
    public bool IsExpired(DateTime now) => ExpiresAt <= now;

    public string Answer => AnswerDelayMs > 0 ? $"HTTP {AnswerStatus} after {AnswerDelayMs / 1000.0:0.#} s" : $"HTTP {AnswerStatus}";
}

/// <summary>How an inbox answers and whose secret verifies what it receives.</summary>
public sealed record InboxSettings(string? Name, Guid? EndpointId, int AnswerStatus, int AnswerDelayMs, TimeSpan Lifetime);

/// <summary>A received request as the inbox page shows it.</summary>
public sealed record InboxRequestView(
    Guid Id,
    DateTime ReceivedAt,
    string Method,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string Body,
    long BodySize,
    string? RemoteAddress,
    string Signature,
    string? SignatureDetail,
    int AnsweredStatus)
{
    public bool BodyTruncated => Encoding.UTF8.GetByteCount(Body) < BodySize;

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>A request arriving at an inbox URL, as the receiving endpoint read it.</summary>
public sealed record InboxArrival(string Method, string Path, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, long BodySize, string? RemoteAddress);

/// <summary>What the inbox answers: the status after the delay, or why there is no inbox.</summary>
public sealed record InboxAnswer(int Status, TimeSpan Delay, string Message);

/// <summary>
/// Webhook inboxes: creating, changing and removing them (operators; audited), reading what they
/// received (anyone of the workspace), and recording an arrival (anonymous: the URL's token is the
/// credential, as with any webhook URL). Storage is bounded: at most <see cref="MaxActiveInboxes"/>
/// live inboxes a workspace, each keeping its newest <see cref="KeptRequests"/> requests with at most
/// <see cref="KeptBodyBytes"/> of body; expired inboxes answer 410 and the sweep removes them.
/// </summary>
public sealed class InboxService(IDbContextFactory<AppDbContext> dbFactory, ConsoleAddress self, EndpointSecrets secrets, DeliveryNotifier live, TimeProvider clock)
{
    public const int KeptRequests = 200;
    public const int KeptBodyBytes = 64 * 1024;
    public const long MaxBodyBytes = Infrastructure.Api.RequestBody.DefaultLimit;
    public const int MaxActiveInboxes = 20;
    public const int MaxDelayMs = 60_000;
    public static readonly TimeSpan MinLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(7);

    /// <summary>How far a signed timestamp may be from the arrival time (Standard Webhooks' default tolerance).</summary>
    public static readonly TimeSpan TimestampTolerance = TimeSpan.FromMinutes(5);

    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    public async Task<InboxView> CreateAsync(Caller caller, InboxSettings settings, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var name = Validate(settings, requireLifetime: true);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await RequireEndpointAsync(db, caller, settings.EndpointId, cancellationToken);
        if (await db.Set<WebhookInbox>().CountAsync(i => i.WorkspaceId == caller.WorkspaceId && i.ExpiresAt > now, cancellationToken) >= MaxActiveInboxes)
        {
            throw new ConflictException($"This workspace has {MaxActiveInboxes} inboxes already; delete one you no longer need.");
        }

        var inbox = new WebhookInbox
        {
            Id = Guid.CreateVersion7(),
            WorkspaceId = caller.WorkspaceId,
            Name = name,
            Token = "in_" + RandomNumberGenerator.GetString(Alphabet, 32),
            EndpointId = settings.EndpointId,
            AnswerStatus = settings.AnswerStatus,
            AnswerDelayMs = settings.AnswerDelayMs,
            ExpiresAt = now + settings.Lifetime,
            CreatedBy = caller.ActorName,
            CreatedAt = now,
        };
        db.Add(inbox);
        db.Record(caller, now, "inbox.created", "inbox", inbox.Id.ToString(), $"\"{inbox.Name}\" answers {Describe(inbox)}, until {inbox.ExpiresAt:yyyy-MM-dd HH:mm} UTC");
        await db.SaveChangesAsync(cancellationToken);
        return await ViewAsync(db, inbox, cancellationToken);
    }

    public async Task<IReadOnlyList<InboxView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inboxes = await db.Set<WebhookInbox>().AsNoTracking().Where(i => i.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(i => i.CreatedAt).ToListAsync(cancellationToken);
        var names = await EndpointNamesAsync(db, caller.WorkspaceId, cancellationToken);
        return inboxes.Select(i => View(i, names)).ToList();
    }

    /// <summary>One inbox of the caller's workspace; 404 for any other.</summary>
    public async Task<InboxView> GetAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await ViewAsync(db, await FindAsync(db, caller, id, cancellationToken), cancellationToken);
    }

    /// <summary>Changes the answer, the delay, the name or the verifying endpoint (not the URL, nor the expiry).</summary>
    public async Task<InboxView> UpdateAsync(Caller caller, Guid id, InboxSettings settings, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var name = Validate(settings, requireLifetime: false);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inbox = await FindAsync(db, caller, id, cancellationToken);
        await RequireEndpointAsync(db, caller, settings.EndpointId, cancellationToken);
        var before = Describe(inbox);
        inbox.Name = name;
        inbox.EndpointId = settings.EndpointId;
        inbox.AnswerStatus = settings.AnswerStatus;
        inbox.AnswerDelayMs = settings.AnswerDelayMs;
        var now = clock.GetUtcNow().UtcDateTime;
        db.Record(caller, now, "inbox.updated", "inbox", inbox.Id.ToString(), $"\"{inbox.Name}\" answered {before}, now {Describe(inbox)}");
        await db.SaveChangesAsync(cancellationToken);
        return await ViewAsync(db, inbox, cancellationToken);
    }

    /// <summary>Removes the inbox and everything it received; its URL answers 404 from then on.</summary>
    public async Task DeleteAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inbox = await FindAsync(db, caller, id, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Set<InboxRequest>().Where(r => r.InboxId == inbox.Id).ExecuteDeleteAsync(cancellationToken);
        db.Remove(inbox);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "inbox.deleted", "inbox", inbox.Id.ToString(), $"\"{inbox.Name}\" with {inbox.ReceivedCount} request(s) received");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Forgets what the inbox received (the count of received requests starts again too).</summary>
    public async Task ClearAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inbox = await FindAsync(db, caller, id, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Set<InboxRequest>().Where(r => r.InboxId == inbox.Id).ExecuteDeleteAsync(cancellationToken);
        inbox.ReceivedCount = 0;
        inbox.LastReceivedAt = null;
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "inbox.cleared", "inbox", inbox.Id.ToString(), $"\"{inbox.Name}\"");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The newest requests first, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<InboxRequestView>> RequestsAsync(Caller caller, Guid id, int limit = 50, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inbox = await FindAsync(db, caller, id, cancellationToken);
        var rows = await db.Set<InboxRequest>().AsNoTracking().Where(r => r.InboxId == inbox.Id)
            .OrderByDescending(r => r.ReceivedAt).ThenByDescending(r => r.Id).Take(Math.Clamp(limit, 1, KeptRequests)).ToListAsync(cancellationToken);
        return rows.Select(r => new InboxRequestView(r.Id, r.ReceivedAt, r.Method, r.Path,
            JsonSerializer.Deserialize<List<KeyValuePair<string, string>>>(r.HeadersJson) ?? [], r.Body, r.BodySize, r.RemoteAddress,
            r.Signature, r.SignatureDetail, r.AnsweredStatus)).ToList();
    }

    /// <summary>
    /// Records a request to the inbox of <paramref name="token"/> and says how to answer it. Unknown
    /// tokens get 404 and expired inboxes 410, with nothing stored.
    /// </summary>
    public async Task<InboxAnswer> ReceiveAsync(string token, InboxArrival arrival, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inbox = await db.Set<WebhookInbox>().AsNoTracking().FirstOrDefaultAsync(i => i.Token == token, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        if (inbox is null)
        {
            return new InboxAnswer(StatusCodes.Status404NotFound, TimeSpan.Zero, "No such inbox.");
        }

        if (inbox.ExpiresAt <= now)
        {
            return new InboxAnswer(StatusCodes.Status410Gone, TimeSpan.Zero, "This inbox has expired.");
        }

        var (verdict, detail) = await VerifyAsync(db, inbox, arrival, now, cancellationToken);
        var keptText = Encoding.UTF8.GetString(arrival.Body, 0, Math.Min(arrival.Body.Length, KeptBodyBytes));
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            db.Add(new InboxRequest
            {
                Id = Guid.CreateVersion7(),
                InboxId = inbox.Id,
                WorkspaceId = inbox.WorkspaceId,
                ReceivedAt = now,
                Method = arrival.Method.Length > 16 ? arrival.Method[..16] : arrival.Method,
                Path = arrival.Path.Length > 2048 ? arrival.Path[..2048] : arrival.Path,
                HeadersJson = JsonSerializer.Serialize(arrival.Headers),
                Body = keptText,
                BodySize = arrival.BodySize,
                RemoteAddress = arrival.RemoteAddress,
                Signature = verdict,
                SignatureDetail = detail,
                AnsweredStatus = inbox.AnswerStatus,
            });
            await db.SaveChangesAsync(cancellationToken);
            var received = await db.Set<WebhookInbox>().Where(i => i.Id == inbox.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.ReceivedCount, i => i.ReceivedCount + 1).SetProperty(i => i.LastReceivedAt, now), cancellationToken);
            // Keep the newest requests only; trimming every tenth arrival keeps it cheap (at most ten more are held meanwhile).
            if ((inbox.ReceivedCount + 1) % 10 == 0 && received > 0)
            {
                await TrimAsync(db, inbox.Id, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        live.Notify(inbox.WorkspaceId);
        return new InboxAnswer(inbox.AnswerStatus, TimeSpan.FromMilliseconds(inbox.AnswerDelayMs), $"Received by inbox \"{inbox.Name}\".");
    }

    /// <summary>Removes expired inboxes and what they received; returns how many inboxes went.</summary>
    public async Task<int> SweepExpiredAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = await db.Set<WebhookInbox>().Where(i => i.ExpiresAt <= now).OrderBy(i => i.ExpiresAt).Select(i => i.Id).Take(100).ToListAsync(cancellationToken);
        if (expired.Count == 0)
        {
            return 0;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Set<InboxRequest>().Where(r => expired.Contains(r.InboxId)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<WebhookInbox>().Where(i => expired.Contains(i.Id)).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return expired.Count;
    }

    private static async Task TrimAsync(AppDbContext db, Guid inboxId, CancellationToken cancellationToken)
    {
        var oldestKept = await db.Set<InboxRequest>().Where(r => r.InboxId == inboxId)
            .OrderByDescending(r => r.ReceivedAt).ThenByDescending(r => r.Id).Skip(KeptRequests - 1)
            .Select(r => new { r.ReceivedAt, r.Id }).FirstOrDefaultAsync(cancellationToken);
        if (oldestKept is not null)
        {
            await db.Set<InboxRequest>()
                .Where(r => r.InboxId == inboxId && (r.ReceivedAt < oldestKept.ReceivedAt || (r.ReceivedAt == oldestKept.ReceivedAt && r.Id.CompareTo(oldestKept.Id) < 0)))
                .ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>Standard Webhooks verification with the endpoint's current secret and, during a rotation's grace period, its previous one.</summary>
    private async Task<(string Verdict, string? Detail)> VerifyAsync(AppDbContext db, WebhookInbox inbox, InboxArrival arrival, DateTime now, CancellationToken cancellationToken)
    {
        if (inbox.EndpointId is null)
        {
            return ("not_checked", "No endpoint chosen for this inbox: signatures are not checked.");
        }

        var endpoint = await db.WebhookEndpoints.AsNoTracking()
            .FirstOrDefaultAsync(e => e.Id == inbox.EndpointId && e.WorkspaceId == inbox.WorkspaceId && e.DeletedAt == null, cancellationToken);
        if (endpoint is null)
        {
            return ("not_checked", "The endpoint chosen for this inbox was deleted: signatures are not checked.");
        }

        var id = HeaderOf(arrival, "webhook-id");
        var timestampText = HeaderOf(arrival, "webhook-timestamp");
        var signature = HeaderOf(arrival, "webhook-signature");
        if (id is null || timestampText is null || signature is null)
        {
            var missing = new[] { ("webhook-id", id), ("webhook-timestamp", timestampText), ("webhook-signature", signature) }.Where(h => h.Item2 is null).Select(h => h.Item1);
            return ("unsigned", $"Missing {string.Join(", ", missing)}.");
        }

        if (!long.TryParse(timestampText, out var timestamp))
        {
            return ("mismatch", $"webhook-timestamp '{Clip(timestampText)}' is not a Unix time in seconds.");
        }

        var body = Encoding.UTF8.GetString(arrival.Body);
        var candidates = new List<(int Version, string Secret)> { (endpoint.SecretVersion, secrets.Unprotect(endpoint.SecretProtected)) };
        if (endpoint.PreviousSecretStillSigning(now) is { } previous)
        {
            candidates.Add((endpoint.SecretVersion - 1, secrets.Unprotect(previous)));
        }

        var matched = candidates.Where(c => WebhookSignature.Verify(c.Secret, id, timestamp, body, signature)).Select(c => c.Version).ToList();
        if (matched.Count == 0)
        {
            return ("mismatch", $"No signature matches secret v{endpoint.SecretVersion}{(candidates.Count > 1 ? $" or v{endpoint.SecretVersion - 1}" : "")} of the endpoint.");
        }

        var skew = now - DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime;
        var versions = string.Join(" and ", matched.Select(v => $"v{v}"));
        if (skew.Duration() > TimestampTolerance)
        {
            return ("stale", $"Signed with secret {versions}, but the timestamp is {skew.Duration().TotalMinutes:0} minutes {(skew > TimeSpan.Zero ? "old" : "ahead")} (tolerance 5 minutes): a receiver would refuse it as a replay.");
        }

        return ("verified", $"Signed with secret {versions} of the endpoint{(matched.Count < candidates.Count && matched[0] != endpoint.SecretVersion ? " (the previous one, still in its grace period)" : "")}.");
    }

    private static string? HeaderOf(InboxArrival arrival, string name) =>
        arrival.Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    private static string Clip(string text) => text.Length > 40 ? text[..40] + "…" : text;

    private static string Validate(InboxSettings settings, bool requireLifetime)
    {
        var errors = new List<FieldError>();
        var name = settings.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new FieldError(["body", "name"], "A name is required", "missing"));
        }
        else if (name.Length > 200)
        {
            errors.Add(new FieldError(["body", "name"], "String should have at most 200 characters", "string_too_long"));
        }

        if (settings.AnswerStatus is < 200 or > 599)
        {
            errors.Add(new FieldError(["body", "answerStatus"], "The answer is an HTTP status from 200 to 599", "range"));
        }

        if (settings.AnswerDelayMs is < 0 or > MaxDelayMs)
        {
            errors.Add(new FieldError(["body", "answerDelayMs"], $"The delay is from 0 to {MaxDelayMs / 1000} seconds", "range"));
        }

        if (requireLifetime && (settings.Lifetime < MinLifetime || settings.Lifetime > MaxLifetime))
        {
            errors.Add(new FieldError(["body", "lifetime"], $"An inbox lives between {MinLifetime.TotalHours:0} hour and {MaxLifetime.TotalDays:0} days", "range"));
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : name!;
    }

    private static async Task RequireEndpointAsync(AppDbContext db, Caller caller, Guid? endpointId, CancellationToken cancellationToken)
    {
        if (endpointId is { } id && !await db.WebhookEndpoints.AnyAsync(e => e.Id == id && e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null, cancellationToken))
        {
            throw new ValidationException("body", "endpointId", $"No endpoint {id} in this workspace.");
        }
    }

    private static async Task<WebhookInbox> FindAsync(AppDbContext db, Caller caller, Guid id, CancellationToken cancellationToken) =>
        await db.Set<WebhookInbox>().FirstOrDefaultAsync(i => i.Id == id && i.WorkspaceId == caller.WorkspaceId, cancellationToken)
        ?? throw new NotFoundException("Inbox not found.");

    private static string Describe(WebhookInbox inbox) =>
        (inbox.AnswerDelayMs > 0 ? $"HTTP {inbox.AnswerStatus} after {inbox.AnswerDelayMs} ms" : $"HTTP {inbox.AnswerStatus}")
        + (inbox.EndpointId is null ? "" : $", verifying endpoint {inbox.EndpointId}");

    private async Task<InboxView> ViewAsync(AppDbContext db, WebhookInbox inbox, CancellationToken cancellationToken) =>
        View(inbox, await EndpointNamesAsync(db, inbox.WorkspaceId, cancellationToken));

    private InboxView View(WebhookInbox i, IReadOnlyDictionary<Guid, string> endpointNames) =>
        new(i.Id, i.Name, self.InboxUrl(i.Token), i.EndpointId, i.EndpointId is { } e ? endpointNames.GetValueOrDefault(e, "(deleted endpoint)") : null,
            i.AnswerStatus, i.AnswerDelayMs, i.ExpiresAt, i.CreatedBy, i.CreatedAt, i.ReceivedCount, i.LastReceivedAt);

    private static async Task<IReadOnlyDictionary<Guid, string>> EndpointNamesAsync(AppDbContext db, Guid workspaceId, CancellationToken cancellationToken) =>
        (await EndpointService.NamedAsync(db, workspaceId, cancellationToken)).ToDictionary(e => e.Endpoint.Id, e => e.OwnerName);
}
