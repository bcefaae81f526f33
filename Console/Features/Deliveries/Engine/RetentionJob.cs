using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Removes finished deliveries older than <see cref="DeliveryOptions.Retention"/> with their
/// attempts, and events left without deliveries, in small batches through the one writer (each
/// batch one short transaction, so the writer is never held for long). The hourly rollups keep
/// their figures for what is removed: within the batch's transaction the rollup rows of the
/// hours it touches are kept aside and put back after the delete (whose triggers would otherwise
/// subtract them), so stats and the dashboard do not change when history is trimmed. Pending
/// deliveries are never removed.
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
                var batch = await writer.WriteAsync(db => RemoveBatchAsync(db, workspace, cutoff, settings.RetentionBatch));
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

    private static async Task<int> RemoveBatchAsync(AppDbContext db, Guid workspace, DateTime cutoff, int size)
    {
        var hour = Stats.RollupSql.HourTicks;
        await ExecuteAsync(db, """
            CREATE TEMP TABLE IF NOT EXISTS retention_batch ("Id" TEXT PRIMARY KEY);
            DELETE FROM retention_batch;
            INSERT INTO retention_batch
                SELECT "Id" FROM deliveries
                WHERE "WorkspaceId" = $workspace AND "CreatedAt" < $cutoff AND "Status" <> 0
                ORDER BY "CreatedAt" LIMIT $size;
            """, ("$workspace", workspace.ToString("D")), ("$cutoff", UtcTicksConverter.ToTicks(cutoff)), ("$size", size));

        // The hours whose rollups the delete's triggers would change: the deliveries' creation hours and their attempts' start hours.
        await using var range = RawSql.Command(db, """
            SELECT MIN(h), MAX(h), COUNT(*) FROM (
                SELECT "CreatedAt" - "CreatedAt" % $hour AS h FROM deliveries WHERE "Id" IN (SELECT "Id" FROM retention_batch)
                UNION ALL
                SELECT "StartedAt" - "StartedAt" % $hour FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM retention_batch))
            """, ("$hour", hour));
        long from, to;
        await using (var reader = await range.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            if (reader.IsDBNull(0))
            {
                return 0;
            }

            (from, to) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        return await ExecuteAsync(db, """
            CREATE TEMP TABLE IF NOT EXISTS retention_delivery_rollups AS SELECT * FROM delivery_rollups WHERE 0;
            CREATE TEMP TABLE IF NOT EXISTS retention_latency_rollups AS SELECT * FROM latency_rollups WHERE 0;
            DELETE FROM retention_delivery_rollups;
            DELETE FROM retention_latency_rollups;
            INSERT INTO retention_delivery_rollups SELECT * FROM delivery_rollups WHERE "WorkspaceId" = $workspace AND "HourStart" BETWEEN $from AND $to;
            INSERT INTO retention_latency_rollups SELECT * FROM latency_rollups WHERE "WorkspaceId" = $workspace AND "HourStart" BETWEEN $from AND $to;
            DELETE FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM retention_batch);
            DELETE FROM deliveries WHERE "Id" IN (SELECT "Id" FROM retention_batch);
            DELETE FROM delivery_rollups WHERE "WorkspaceId" = $workspace AND "HourStart" BETWEEN $from AND $to;
            DELETE FROM latency_rollups WHERE "WorkspaceId" = $workspace AND "HourStart" BETWEEN $from AND $to;
            INSERT INTO delivery_rollups SELECT * FROM retention_delivery_rollups;
            INSERT INTO latency_rollups SELECT * FROM retention_latency_rollups;
            DELETE FROM events WHERE "WorkspaceId" = $workspace AND "CreatedAt" < $cutoff
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d."EventId" = events."Id");
            SELECT COUNT(*) FROM retention_batch;
            """, ("$workspace", workspace.ToString("D")), ("$from", from), ("$to", to), ("$cutoff", UtcTicksConverter.ToTicks(cutoff)));
    }

    private static async Task<int> ExecuteAsync(AppDbContext db, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = RawSql.Command(db, sql, parameters);
        return await command.ExecuteScalarAsync() is long count ? (int)count : 0;
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
