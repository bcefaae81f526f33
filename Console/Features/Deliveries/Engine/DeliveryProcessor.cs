using System.Collections.Concurrent;
using DeliveryConsole.Data;
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
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var claimed = await db.Deliveries
            .Where(d => d.Id == deliveryId && d.Status == DeliveryStatus.Pending
                && (d.NextAttemptAt == null || d.NextAttemptAt <= now)
                && (d.LeaseUntil == null || d.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, now + settings.Lease).SetProperty(d => d.LeaseOwner, owner), cancellationToken);
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

        var outcome = await RecordAsync(delivery, endpoint, owner, result, settings, CancellationToken.None);
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

    private async Task<Outcome> RecordAsync(Delivery snapshot, WebhookEndpoint endpoint, string owner, SendResult result, DeliveryOptions settings, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var delivery = await db.Deliveries.SingleAsync(d => d.Id == snapshot.Id, cancellationToken);
        var previous = await db.DeliveryAttempts.Where(a => a.DeliveryId == snapshot.Id).MaxAsync(a => (int?)a.Number, cancellationToken) ?? 0;
        var trigger = delivery.Attempts > 0 ? AttemptTrigger.Retry : previous > 0 ? AttemptTrigger.Resend : AttemptTrigger.Initial;
        db.DeliveryAttempts.Add(AttemptRecords.From(result, delivery, previous + 1, trigger));

        if (delivery.LeaseOwner != owner || delivery.Status != DeliveryStatus.Pending)
        {
            // Our lease ran out and someone else took over: keep the attempt as history, leave the state to them.
            logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", delivery.Id);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Outcome(delivery.Status, null);
        }

        var now = result.CompletedAt;
        AttemptRecords.Apply(delivery, result);
        delivery.TargetUrl = endpoint.Url;
        delivery.TargetHost = new Uri(endpoint.Url).Host.ToLowerInvariant();

        var tracked = await db.WebhookEndpoints.SingleAsync(e => e.Id == endpoint.Id, cancellationToken);
        DateTime? retryAt = null;
        if (result.Succeeded)
        {
            delivery.Status = DeliveryStatus.Delivered;
            delivery.DeliveredAt = now;
            delivery.NextAttemptAt = null;
            tracked.ConsecutiveFailures = 0;
            tracked.LastSuccessAt = now;
        }
        else
        {
            tracked.ConsecutiveFailures++;
            tracked.LastFailureAt = now;
            tracked.LastError = result.Error;
            var gone = result.ResponseStatus == 410;
            if (gone || delivery.Attempts >= settings.MaxAttempts)
            {
                delivery.Status = DeliveryStatus.Failed;
                delivery.NextAttemptAt = null;
            }
            else
            {
                retryAt = now + Jittered(settings.ParsedRetryDelays[delivery.Attempts - 1], settings.Jitter);
                delivery.NextAttemptAt = retryAt;
            }

            if (gone)
            {
                Disable(tracked, "The endpoint answered 410 Gone", now);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        if (delivery.Status == DeliveryStatus.Failed && tracked.Status == EndpointStatus.Active && await KeepsFailingAsync(db, tracked.Id, now, settings, cancellationToken))
        {
            Disable(tracked, $"Every delivery of the last {settings.DisableWindow.TotalHours:0.#} h failed ({settings.DisableAfterFailures} or more)", now);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt}: {Outcome} ({Status}) in {DurationMs} ms",
            delivery.Id, previous + 1, delivery.Status, result.ResponseStatus?.ToString() ?? result.ErrorClass.ToString(), result.DurationMs);
        return new Outcome(delivery.Status, retryAt);
    }

    private static async Task<bool> KeepsFailingAsync(AppDbContext db, Guid endpointId, DateTime now, DeliveryOptions settings, CancellationToken cancellationToken)
    {
        var since = now - settings.DisableWindow;
        var recent = db.Deliveries.Where(d => d.EndpointId == endpointId && d.CreatedAt >= since);
        if (await recent.AnyAsync(d => d.Status == DeliveryStatus.Delivered, cancellationToken))
        {
            return false;
        }

        return await recent.CountAsync(d => d.Status == DeliveryStatus.Failed, cancellationToken) >= settings.DisableAfterFailures;
    }

    private static void Disable(WebhookEndpoint endpoint, string reason, DateTime now)
    {
        endpoint.Status = EndpointStatus.Disabled;
        endpoint.DisabledReason = reason;
        endpoint.DisabledAt = now;
        endpoint.UpdatedAt = now;
    }

    private async Task FinishWithoutSendingAsync(Guid deliveryId, string owner, string reason, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Deliveries.Where(d => d.Id == deliveryId && d.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatus.Failed)
                .SetProperty(d => d.LastError, reason)
                .SetProperty(d => d.NextAttemptAt, (DateTime?)null)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                .SetProperty(d => d.UpdatedAt, now), cancellationToken);
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
