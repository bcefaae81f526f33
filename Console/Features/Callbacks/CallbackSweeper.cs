using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Callbacks;

/// <summary>
/// The database is the record of what must happen: at start-up and every few seconds this
/// enqueues the dispatch of every scheduled callback that is due (Hangfire's in-memory schedule
/// does not survive a restart), settles dispatches whose worker died (dispatched if their call
/// exists, else failed so a person can dispatch again), and publishes the event of any ended call
/// that has none yet.
/// </summary>
public sealed class CallbackSweeper(
    IDbContextFactory<AppDbContext> dbFactory,
    IBackgroundJobClient jobs,
    CallbackService callbacks,
    CallLifecycle lifecycle,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<CallbackSweeper> logger,
    IClusterSignals cluster) : PeriodicSweep(options, clock, logger, cluster)
{
    private readonly RecentlyEnqueued<string> _recentlyEnqueued = new();

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        var due = await db.Callbacks.AsNoTracking()
            .Where(c => c.Status == CallbackStatus.Scheduled && c.ScheduledAt <= now)
            .OrderBy(c => c.ScheduledAt).Select(c => new { c.Id, c.WorkspaceId }).Take(500).ToListAsync(cancellationToken);
        _recentlyEnqueued.Forget(now, CallbackService.DispatchLease);
        foreach (var callback in due)
        {
            if (_recentlyEnqueued.TryAdd(callback.Id, now))
            {
                jobs.Enqueue<CallbackDispatchJob>(j => j.RunAsync(callback.WorkspaceId, callback.Id, CancellationToken.None));
            }
        }

        var abandoned = await db.Callbacks.AsNoTracking()
            .Where(c => c.Status == CallbackStatus.Dispatching && c.LeaseUntil < now).OrderBy(c => c.LeaseUntil).Take(100).ToListAsync(cancellationToken);
        foreach (var callback in abandoned)
        {
            // Only a call the provider accepted counts; one stored but never dialled does not.
            var callId = await db.Calls.Where(c => c.CallbackId == callback.Id && c.ProviderCallId != null && c.CreatedAt >= callback.AttemptedAt)
                .OrderBy(c => c.CreatedAt).Select(c => c.Id).FirstOrDefaultAsync(cancellationToken);
            logger.LogWarning("Callback {CallbackId} was left dispatching; settling it as {Outcome}", callback.Id, callId is null ? "failed" : "dispatched");
            await callbacks.FinishDispatchAsync(Caller.System(callback.WorkspaceId, "sweep"), callback, callId,
                callId is null ? "The dispatch was interrupted before a call was placed." : null, "callback.dispatched");
        }

        var unpublished = await db.Calls.AsNoTracking()
            .Where(c => c.EventPublishedAt == null && c.CallEndTime != null && c.UpdatedAt < now.AddSeconds(-10))
            .OrderBy(c => c.UpdatedAt).Select(c => c.Id).Take(100).ToListAsync(cancellationToken);
        foreach (var callId in unpublished)
        {
            await lifecycle.PublishEndedAsync(callId, cancellationToken);
        }
    }
}
