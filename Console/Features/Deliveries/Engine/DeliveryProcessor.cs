using System.Collections.Concurrent;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Sends one claimed delivery (the claim carries its payload, endpoint URL and secret) and records
/// the attempt, the delivery's new state and the endpoint's health in one transaction of the
/// writer. A failed attempt makes the row due again at its retry time, where the dispatcher finds
/// it; the last one fails the delivery. A claim whose lease was taken over meanwhile records its
/// attempt as history and leaves the state alone.
/// </summary>
public sealed class DeliveryProcessor(
    IDbContextFactory<AppDbContext> dbFactory,
    DatabaseWriter writer,
    DeliveryNotifier notifier,
    WebhookSender sender,
    AttemptRecorder recorder,
    EndpointSecrets secrets,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryProcessor> logger)
{
    /// <summary>Unprotected endpoint secrets by their protected form: a rotation changes the key, so nothing stale is ever used.</summary>
    private readonly ConcurrentDictionary<string, string> _secrets = new();

    /// <summary>Sends and records one claim; returns how long its endpoint's lane should pause when the endpoint asked to slow down.</summary>
    public async Task<TimeSpan?> ProcessAsync(DeliveryClaim claim, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (claim.EndpointDeleted || claim.EndpointStatus == EndpointStatus.Disabled)
        {
            await FinishWithoutSendingAsync(claim.Id, claim.LeaseOwner, claim.EndpointDeleted ? "endpoint deleted" : $"endpoint disabled: {claim.DisabledReason}", cancellationToken);
            notifier.Notify(claim.WorkspaceId);
            return null;
        }

        SendResult result;
        try
        {
            result = await sender.SendAsync(claim.EndpointUrl, claim.EventId, Secret(claim.SecretProtected), claim.PayloadJson, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-request: nothing is recorded, the lease is released, the next run sends it.
            await ReleaseAsync([claim]);
            return null;
        }

        if (result.Succeeded)
        {
            // The common case, batched with the other successes that finished meanwhile.
            if (!await recorder.RecordSuccessAsync(claim, result))
            {
                logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", claim.Id);
            }

            return null;
        }

        await writer.WriteAsync(db => RecordAsync(db, claim, result, settings));
        notifier.Notify(claim.WorkspaceId);
        return result.AsksToSlowDown ? LanePause(result.RetryAfter, settings) : null;
    }

    /// <summary>The longest a lane pauses for one "slow down" answer, whatever Retry-After says (the delivery itself waits as long as asked, within the schedule).</summary>
    public static readonly TimeSpan MaxLanePause = TimeSpan.FromSeconds(30);

    private static TimeSpan LanePause(TimeSpan? retryAfter, DeliveryOptions settings) =>
        retryAfter is { } asked ? (asked > MaxLanePause ? MaxLanePause : asked) : settings.SlowDownPause;

    /// <summary>
    /// When the next attempt is due: the schedule's delay with jitter, but never earlier than a
    /// <c>Retry-After</c> of a 429 or 503 says, and never later than the schedule's last delay.
    /// </summary>
    public static TimeSpan RetryDelay(SendResult result, int attempts, DeliveryOptions settings)
    {
        var delays = settings.ParsedRetryDelays;
        var delay = Jittered(delays[attempts - 1], settings.Jitter);
        if (result.ResponseStatus is 429 or 503 && result.RetryAfter is { } asked && asked > delay)
        {
            delay = asked > delays[^1] ? delays[^1] : asked;
        }

        return delay;
    }

    private string Secret(string protectedSecret)
    {
        if (_secrets.TryGetValue(protectedSecret, out var secret))
        {
            return secret;
        }

        if (_secrets.Count > 10_000)
        {
            _secrets.Clear();
        }

        return _secrets[protectedSecret] = secrets.Unprotect(protectedSecret);
    }

    /// <summary>Sends now, outside the retry schedule (the test endpoint). The caller records the outcome.</summary>
    public Task<SendResult> SendOnceAsync(WebhookEndpoint endpoint, string messageId, string body, CancellationToken cancellationToken) =>
        sender.SendAsync(endpoint.Url, messageId, secrets.Unprotect(endpoint.SecretProtected), body, cancellationToken);

    private sealed record Outcome(DeliveryStatus Status, DateTime? RetryAt);

    /// <summary>
    /// Runs inside the writer's transaction: the attempt, the delivery's new state and the
    /// endpoint's health together. The delivery is updated only while this claim still holds its
    /// lease; otherwise the attempt is kept as history and the state left to whoever holds it now.
    /// </summary>
    private async Task<Outcome> RecordAsync(AppDbContext db, DeliveryClaim claim, SendResult result, DeliveryOptions settings)
    {
        var id = claim.Id;
        var owner = claim.LeaseOwner;
        var previous = await db.DeliveryAttempts.Where(a => a.DeliveryId == id).MaxAsync(a => (int?)a.Number) ?? 0;
        var trigger = claim.Attempts > 0 ? AttemptTrigger.Retry : previous > 0 ? AttemptTrigger.Resend : AttemptTrigger.Initial;
        db.DeliveryAttempts.Add(AttemptRecords.From(result, claim.Id, claim.WorkspaceId, claim.EndpointId, claim.PayloadJson, previous + 1, trigger));
        await db.SaveChangesAsync();

        var now = result.CompletedAt;
        var attempts = claim.Attempts + 1;
        var gone = result.ResponseStatus == 410;
        var status = result.Succeeded ? DeliveryStatus.Delivered
            : gone || attempts >= settings.MaxAttempts ? DeliveryStatus.Failed
            : DeliveryStatus.Pending;
        DateTime? retryAt = status == DeliveryStatus.Pending ? now + RetryDelay(result, attempts, settings) : null;
        DateTime? deliveredAt = result.Succeeded ? now : null;
        var url = claim.EndpointUrl;
        var host = new Uri(url).Host.ToLowerInvariant();
        var updated = await db.Deliveries
            .Where(d => d.Id == id && d.LeaseOwner == owner && d.Status == DeliveryStatus.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, status)
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.NextAttemptAt, retryAt)
                .SetProperty(d => d.DeliveredAt, deliveredAt)
                .SetProperty(d => d.LastAttemptAt, result.StartedAt)
                .SetProperty(d => d.LastResponseStatus, result.ResponseStatus)
                .SetProperty(d => d.LastDurationMs, result.DurationMs)
                .SetProperty(d => d.LastError, result.Error)
                .SetProperty(d => d.TargetUrl, url)
                .SetProperty(d => d.TargetHost, host)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                .SetProperty(d => d.UpdatedAt, now));
        if (updated == 0)
        {
            logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", id);
            return new Outcome(DeliveryStatus.Pending, null);
        }

        var endpointId = claim.EndpointId;
        if (result.Succeeded)
        {
            await db.WebhookEndpoints.Where(e => e.Id == endpointId)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.ConsecutiveFailures, 0).SetProperty(e => e.LastSuccessAt, now));
        }
        else
        {
            await db.WebhookEndpoints.Where(e => e.Id == endpointId)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(e => e.ConsecutiveFailures, e => e.ConsecutiveFailures + 1)
                    .SetProperty(e => e.LastFailureAt, now)
                    .SetProperty(e => e.LastError, result.Error));
            var disableReason = gone ? "The endpoint answered 410 Gone"
                : status == DeliveryStatus.Failed && await KeepsFailingAsync(db, endpointId, now, settings) ? $"Every delivery of the last {settings.DisableWindow.TotalHours:0.#} h failed ({settings.DisableAfterFailures} or more)"
                : null;
            if (disableReason is not null)
            {
                await db.WebhookEndpoints.Where(e => e.Id == endpointId && e.Status == EndpointStatus.Active)
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(e => e.Status, EndpointStatus.Disabled)
                        .SetProperty(e => e.DisabledReason, disableReason)
                        .SetProperty(e => e.DisabledAt, now)
                        .SetProperty(e => e.UpdatedAt, now));
            }
        }

        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt}: {Outcome} ({Status}) in {DurationMs} ms",
            id, previous + 1, status, result.ResponseStatus?.ToString() ?? result.ErrorClass.ToString(), result.DurationMs);
        return new Outcome(status, retryAt);
    }

    private static async Task<bool> KeepsFailingAsync(AppDbContext db, Guid endpointId, DateTime now, DeliveryOptions settings, CancellationToken cancellationToken = default)
    {
        var since = now - settings.DisableWindow;
        var recent = db.Deliveries.Where(d => d.EndpointId == endpointId && d.CreatedAt >= since);
        if (await recent.AnyAsync(d => d.Status == DeliveryStatus.Delivered, cancellationToken))
        {
            return false;
        }

        return await recent.CountAsync(d => d.Status == DeliveryStatus.Failed, cancellationToken) >= settings.DisableAfterFailures;
    }

    private async Task FinishWithoutSendingAsync(Guid deliveryId, string owner, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await writer.WriteAsync(db => db.Deliveries.Where(d => d.Id == deliveryId && d.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatus.Failed)
                .SetProperty(d => d.LastError, reason)
                .SetProperty(d => d.NextAttemptAt, (DateTime?)null)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                .SetProperty(d => d.UpdatedAt, now), cancellationToken)).WaitAsync(cancellationToken);
    }

    /// <summary>Gives claimed deliveries back unsent: due again at once for whoever claims next.</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<DeliveryClaim> claims)
    {
        var ids = claims.Select(c => c.Id).ToList();
        var owner = claims.First().LeaseOwner;
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Deliveries.Where(d => ids.Contains(d.Id) && d.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseOwner, (string?)null).SetProperty(d => d.LeaseUntil, (DateTime?)null));
    }

    private static TimeSpan Jittered(TimeSpan delay, double jitter) =>
        jitter <= 0 ? delay : TimeSpan.FromTicks((long)(delay.Ticks * (1 + ((Random.Shared.NextDouble() * 2) - 1) * jitter)));
}

/// <summary>Maps a send result to its attempt row, and onto the delivery it belongs to.</summary>
public static class AttemptRecords
{
    /// <summary>Counts the attempt and copies its outcome onto the delivery; releases the lease. The status is the caller's decision.</summary>
    public static void Apply(Delivery delivery, SendResult result)
    {
        delivery.Attempts++;
        delivery.LastAttemptAt = result.StartedAt;
        delivery.LastResponseStatus = result.ResponseStatus;
        delivery.LastDurationMs = result.DurationMs;
        delivery.LastError = result.Error;
        delivery.LeaseOwner = null;
        delivery.LeaseUntil = null;
        delivery.UpdatedAt = result.CompletedAt;
    }

    public static DeliveryAttempt From(SendResult result, Delivery delivery, int number, AttemptTrigger trigger) =>
        From(result, delivery.Id, delivery.WorkspaceId, delivery.EndpointId, delivery.PayloadJson, number, trigger);

    public static DeliveryAttempt From(SendResult result, Guid deliveryId, Guid workspaceId, Guid endpointId, string body, int number, AttemptTrigger trigger) => new()
    {
        Id = Guid.CreateVersion7(),
        DeliveryId = deliveryId,
        WorkspaceId = workspaceId,
        EndpointId = endpointId,
        Number = number,
        Trigger = trigger,
        RequestUrl = result.RequestUrl,
        RequestHeadersJson = result.RequestHeadersJson,
        RequestBody = body,
        ResponseStatus = result.ResponseStatus,
        ResponseHeadersJson = result.ResponseHeadersJson,
        ResponseBody = result.ResponseBody,
        ResponseBodySize = result.ResponseBodySize,
        DurationMs = result.DurationMs,
        ErrorClass = result.ErrorClass,
        Error = result.Error,
        StartedAt = result.StartedAt,
        CompletedAt = result.CompletedAt,
    };
}
