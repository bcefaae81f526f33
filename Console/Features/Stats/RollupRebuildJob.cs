using DeliveryConsole.Data;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// Recomputes the rollups of a range of hours from the raw rows, in one write transaction (the
/// ledger keeps them current; this repairs a range after a restore, a bulk import or a change of
/// the rollup definition). Safe to run twice: the result depends only on the rows.
/// </summary>
public sealed class RollupRebuildJob(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ILogger<RollupRebuildJob> logger)
{
    /// <summary>Rebuilds the hours that overlap [<paramref name="from"/>, <paramref name="to"/>); both null means every hour.</summary>
    public async Task<int> RunAsync(DateTime? from, DateTime? to, CancellationToken cancellationToken = default)
    {
        var fromTicks = from is { } f ? StatsWindow.HourOf(f).Ticks : 0;
        var toTicks = to is { } t ? (t.Ticks % TimeSpan.TicksPerHour == 0 ? t.Ticks : StatsWindow.HourOf(t).AddHours(1).Ticks) : long.MaxValue;
        var started = clock.GetTimestamp();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rows = await RebuildAsync(db, fromTicks, toTicks, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Rebuilt delivery rollups for ticks {From}..{To}: {Rows} rows written in {ElapsedMs} ms",
            fromTicks, toTicks, rows, (long)clock.GetElapsedTime(started).TotalMilliseconds);
        return rows;
    }

    /// <summary>
    /// Recomputes the rollups of [<paramref name="fromTicks"/>, <paramref name="toTicks"/>) in
    /// <paramref name="db"/>'s transaction; returns the rows written. On PostgreSQL the rollup tables
    /// are locked first: ledgers of other nodes wait, and their changes, not yet committed when the
    /// rebuild reads the rows, are added on top of the rebuilt figures once it commits.
    /// </summary>
    public static async Task<int> RebuildAsync(AppDbContext db, long fromTicks, long toTicks, CancellationToken cancellationToken = default)
    {
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (db.IsPostgres())
        {
            await db.Database.ExecuteSqlRawAsync("LOCK TABLE delivery_rollups, latency_rollups, workspace_latency_rollups IN EXCLUSIVE MODE", cancellationToken);
        }

        int rows;
        await using (var rebuild = RawSql.Command(db, RollupSql.Rebuild, ("@from", fromTicks), ("@to", toTicks)))
        {
            rows = await rebuild.ExecuteNonQueryAsync(cancellationToken);
        }

        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }

        return rows;
    }
}
