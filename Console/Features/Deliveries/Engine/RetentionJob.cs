using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Removes finished deliveries older than <see cref="DeliveryOptions.Retention"/> with their
/// attempts, and events left without deliveries, in small batches through the one writer (each
/// batch one short transaction, so the writer is never held for long), through
/// <see cref="DeliveryLedger.RemoveFinishedAsync"/>. The hourly rollups keep their figures for
/// what is removed (only the ledger's state changes move them, a delete does not), so stats and
/// the dashboard do not change when history is trimmed. Pending deliveries are never removed.
/// </summary>
public sealed class RetentionJob(DatabaseWriter writer, IDbContextFactory<AppDbContext> dbFactory, IOptionsMonitor<DeliveryOptions> options, TimeProvider clock, ILogger<RetentionJob> logger)
{
    public const string RecurringId = "delivery-retention";

    /// <summary>Longest one run goes on; what is left waits for the next hourly run.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(2);

    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var cutoff = clock.GetUtcNow().UtcDateTime - settings.Retention;
        List<Guid> workspaces;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            workspaces = await db.Workspaces.AsNoTracking().Select(w => w.Id).ToListAsync(cancellationToken);
        }

        var started = clock.GetUtcNow();
        var removed = 0;
        foreach (var workspace in workspaces)
        {
            while (clock.GetUtcNow() - started < Budget)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = await writer.WriteAsync(db => DeliveryLedger.RemoveFinishedAsync(db, workspace, cutoff, settings.RetentionBatch));
                removed += batch;
                if (batch < settings.RetentionBatch)
                {
                    break;
                }
            }
        }

        if (removed > 0)
        {
            logger.LogInformation("Retention removed {Count} deliveries created before {Cutoff:u}", removed, cutoff);
        }

        return removed;
    }
}

/// <summary>Schedules the retention job hourly when the console serves.</summary>
public sealed class RetentionSchedule(IRecurringJobManager recurring) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<RetentionJob>(RetentionJob.RecurringId, j => j.RunAsync(CancellationToken.None), Cron.Hourly());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
