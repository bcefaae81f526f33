using DeliveryConsole.Data;
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
    ILogger<DeliverySweeper> logger) : BackgroundService
{
    private const int Batch = 2000;
    private readonly Dictionary<Guid, DateTime> _recentlyEnqueued = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Delivery sweep failed; retrying at the next interval");
            }

            try
            {
                await Task.Delay(options.CurrentValue.SweepInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Enqueues due, unclaimed deliveries; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var due = await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now))
            .OrderBy(d => d.NextAttemptAt)
            .Select(d => d.Id)
            .Take(Batch)
            .ToListAsync(cancellationToken);

        // Do not pile the same row into the queue every interval while an earlier job for it still waits.
        var holdOff = options.CurrentValue.Lease;
        foreach (var stale in _recentlyEnqueued.Where(e => now - e.Value > holdOff).Select(e => e.Key).ToList())
        {
            _recentlyEnqueued.Remove(stale);
        }

        var enqueued = 0;
        foreach (var id in due.Where(id => !_recentlyEnqueued.ContainsKey(id)))
        {
            jobs.Enqueue<DeliverJob>(j => j.RunAsync(id, CancellationToken.None));
            _recentlyEnqueued[id] = now;
            enqueued++;
        }

        if (enqueued > 0)
        {
            logger.LogInformation("Sweep enqueued {Count} due deliveries", enqueued);
        }

        return enqueued;
    }
}
