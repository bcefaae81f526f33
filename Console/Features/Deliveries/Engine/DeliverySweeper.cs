using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// The database is the queue of record: every few seconds (and at once on start-up) this enqueues
/// every pending delivery that is due and not held by a live lease. It rebuilds Hangfire's
/// in-memory queue after a restart and picks up work whose worker died.
/// </summary>
public sealed class DeliverySweeper(
    IDbContextFactory<AppDbContext> dbFactory,
    IBackgroundJobClient jobs,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliverySweeper> logger) : PeriodicSweep(options, clock, logger)
{
    private const int Batch = 2000;
    private readonly RecentlyEnqueued<Guid> _recentlyEnqueued = new();

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Enqueues due, unclaimed deliveries; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var due = await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now))
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => d.Id)
            .Take(Batch)
            .ToListAsync(cancellationToken);

        // Do not pile the same row into the queue every interval while an earlier job for it still waits.
        _recentlyEnqueued.Forget(now, Options.CurrentValue.Lease);
        var enqueued = 0;
        foreach (var id in due)
        {
            if (_recentlyEnqueued.TryAdd(id, now))
            {
                jobs.Enqueue<DeliverJob>(j => j.RunAsync(id, CancellationToken.None));
                enqueued++;
            }
        }

        if (enqueued > 0)
        {
            logger.LogInformation("Sweep enqueued {Count} due deliveries", enqueued);
        }

        return enqueued;
    }
}
