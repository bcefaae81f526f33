using System.Collections.Concurrent;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Sends one due delivery: claims its row with a conditional UPDATE and a lease (so a job that
/// runs twice, or on two hosts, sends once), POSTs it, and records the attempt and the new state
/// in one transaction. A failed attempt schedules the next one; the last one fails the delivery.
/// </summary>
public sealed class DeliveryProcessor(
    IDbContextFactory<AppDbContext> dbFactory,
    DatabaseWriter writer,
    DeliveryNotifier notifier,
    WebhookSender sender,
    EndpointSecrets secrets,
    IBackgroundJobClient jobs,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryProcessor> logger)
{
    private static readonly ConcurrentDictionary<Guid, SemaphoreSlim> EndpointSlots = new();
    // Lease owners: this process, then one id per claim (at most 52 characters).
    private readonly string _instance = $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Returns false when the delivery was not due, already claimed, or finished.</summary>
    public async Task<bool> ProcessAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var now = clock.GetUtcNow().UtcDateTime;
        var owner = $"{_instance}-{Guid.NewGuid():N}";
        var leaseUntil = now + settings.Lease;
        var claimed = await writer.WriteAsync(db => db.Deliveries
            .Where(d => d.Id == deliveryId && d.Status == DeliveryStatus.Pending
                && (d.NextAttemptAt == null || d.NextAttemptAt <= now)
                && (d.LeaseUntil == null || d.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, leaseUntil).SetProperty(d => d.LeaseOwner, owner)));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (claimed == 0)
        {
            await RescheduleIfEarlyAsync(db, deliveryId, now, cancellationToken);
            return false;
        }

        var delivery = await db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId, cancellationToken);
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleAsync(e => e.Id == delivery.EndpointId, cancellationToken);
        if (endpoint.DeletedAt is not null || endpoint.Status == EndpointStatus.Disabled)
        {
            await FinishWithoutSendingAsync(deliveryId, owner, endpoint.DeletedAt is not null ? "endpoint deleted" : $"endpoint disabled: {endpoint.DisabledReason}", cancellationToken);
            notifier.Notify(delivery.WorkspaceId);
            return true;
        }

        var slot = EndpointSlots.GetOrAdd(endpoint.Id, _ => new SemaphoreSlim(settings.MaxConcurrencyPerEndpoint));
        SendResult result;
        await slot.WaitAsync(cancellationToken);
        try
        {
            result = await sender.SendAsync(endpoint.Url, delivery.EventId, secrets.Unprotect(endpoint.SecretProtected), delivery.PayloadJson, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-request: nothing is recorded, the lease is released, the sweep resends.
            await ReleaseAsync(deliveryId, owner);
            throw;
        }
        finally
        {
            slot.Release();
        }

        var outcome = await writer.WriteAsync(db => RecordAsync(db, delivery, endpoint, owner, result, settings));
        notifier.Notify(delivery.WorkspaceId);
        if (outcome.RetryAt is { } retryAt)
        {
            jobs.Schedule<DeliverJob>(j => j.RunAsync(deliveryId, CancellationToken.None), retryAt - clock.GetUtcNow().UtcDateTime);
        }

        return true;
    }

    /// <summary>Sends now, outside the retry schedule (the test endpoint). The caller records the outcome.</summary>
    public Task<SendResult> SendOnceAsync(WebhookEndpoint endpoint, string messageId, string body, CancellationToken cancellationToken) =>
        sender.SendAsync(endpoint.Url, messageId, secrets.Unprotect(endpoint.SecretProtected), body, cancellationToken);

    /// <summary>Hangfire schedules to the second: a job that fires before the row is due waits for it instead of leaving it to the sweep.</summary>
    private async Task RescheduleIfEarlyAsync(AppDbContext db, Guid deliveryId, DateTime now, CancellationToken cancellationToken)
    {
        var row = await db.Deliveries.AsNoTracking()
            .Where(d => d.Id == deliveryId)
            .Select(d => new { d.Status, d.NextAttemptAt, d.LeaseUntil })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is { Status: DeliveryStatus.Pending, NextAttemptAt: { } due } && due > now && (row.LeaseUntil is null || row.LeaseUntil < now))
        {
            jobs.Schedule<DeliverJob>(j => j.RunAsync(deliveryId, CancellationToken.None), due - now + TimeSpan.FromMilliseconds(20));
        }
    }

    private sealed record Outcome(DeliveryStatus Status, DateTime? RetryAt);

    /// <summary>
    /// Runs inside the writer's transaction: the attempt, the delivery's new state and the
    /// endpoint's health together. The delivery is updated only while this claim still holds its
    /// lease; otherwise the attempt is kept as history and the state left to whoever holds it now.
    /// </summary>
    private async Task<Outcome> RecordAsync(AppDbContext db, Delivery snapshot, WebhookEndpoint endpoint, string owner, SendResult result, DeliveryOptions settings)
    {
        var id = snapshot.Id;
        var previous = await db.DeliveryAttempts.Where(a => a.DeliveryId == id).MaxAsync(a => (int?)a.Number) ?? 0;
        var trigger = snapshot.Attempts > 0 ? AttemptTrigger.Retry : previous > 0 ? AttemptTrigger.Resend : AttemptTrigger.Initial;
        db.DeliveryAttempts.Add(AttemptRecords.From(result, snapshot, previous + 1, trigger));
        await db.SaveChangesAsync();

        var now = result.CompletedAt;
        var attempts = snapshot.Attempts + 1;
        var gone = result.ResponseStatus == 410;
        var status = result.Succeeded ? DeliveryStatus.Delivered
            : gone || attempts >= settings.MaxAttempts ? DeliveryStatus.Failed
            : DeliveryStatus.Pending;
        DateTime? retryAt = status == DeliveryStatus.Pending ? now + Jittered(settings.ParsedRetryDelays[attempts - 1], settings.Jitter) : null;
        DateTime? deliveredAt = result.Succeeded ? now : null;
        var host = new Uri(endpoint.Url).Host.ToLowerInvariant();
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
                .SetProperty(d => d.TargetUrl, endpoint.Url)
                .SetProperty(d => d.TargetHost, host)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                .SetProperty(d => d.UpdatedAt, now));
        if (updated == 0)
        {
            logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", id);
            return new Outcome(DeliveryStatus.Pending, null);
        }

        var endpointId = endpoint.Id;
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

    private async Task ReleaseAsync(Guid deliveryId, string owner)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Deliveries.Where(d => d.Id == deliveryId && d.LeaseOwner == owner)
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

    public static DeliveryAttempt From(SendResult result, Delivery delivery, int number, AttemptTrigger trigger) => new()
    {
        Id = Guid.CreateVersion7(),
        DeliveryId = delivery.Id,
        WorkspaceId = delivery.WorkspaceId,
        EndpointId = delivery.EndpointId,
        Number = number,
        Trigger = trigger,
        RequestUrl = result.RequestUrl,
        RequestHeadersJson = result.RequestHeadersJson,
        RequestBody = delivery.PayloadJson,
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

/// <summary>The Hangfire job: one delivery id; safe to run twice (the claim decides).</summary>
public sealed class DeliverJob(DeliveryProcessor processor)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid deliveryId, CancellationToken cancellationToken) => processor.ProcessAsync(deliveryId, cancellationToken);
}
