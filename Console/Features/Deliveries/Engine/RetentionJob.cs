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
            removed += await InBatchesAsync(started, settings.RetentionBatch,
                db => DeliveryLedger.RemoveFinishedAsync(db, workspace, cutoff, settings.RetentionBatch), cancellationToken);
        }

        if (removed > 0)
        {
            logger.LogInformation("Retention removed {Count} deliveries created before {Cutoff:u}", removed, cutoff);
        }

        // Response bodies go sooner: from where the last run stopped up to the body cutoff.
        if (settings.ResponseBodyRetention < settings.Retention)
        {
            var bodyCutoff = UtcTicksConverter.ToTicks(clock.GetUtcNow().UtcDateTime - settings.ResponseBodyRetention);
            long from;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                from = await db.EngineMarks.AsNoTracking().Where(m => m.Name == DeliveryLedger.BodiesTrimmedMark).Select(m => (long?)m.Value).FirstOrDefaultAsync(cancellationToken) ?? 0;
            }

            var trimmed = from >= bodyCutoff ? 0 : await InBatchesAsync(started, settings.RetentionBatch,
                db => DeliveryLedger.TrimResponseBodiesAsync(db, from, bodyCutoff, settings.RetentionBatch), cancellationToken);

            if (trimmed > 0)
            {
                logger.LogInformation("Retention removed the response bodies of {Count} attempts started before {Cutoff:u}", trimmed, new DateTime(bodyCutoff, DateTimeKind.Utc));
            }
        }

        return removed;
    }

    /// <summary>Runs <paramref name="batch"/> through the writer until one comes back short of <paramref name="size"/> or the run's budget is spent; returns the total.</summary>
    private async Task<int> InBatchesAsync(DateTimeOffset started, int size, Func<AppDbContext, Task<int>> batch, CancellationToken cancellationToken)
    {
        var total = 0;
        while (clock.GetUtcNow() - started < Budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var done = await writer.WriteAsync(batch);
            total += done;
            if (done < size)
            {
                break;
            }
        }

        return total;
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
