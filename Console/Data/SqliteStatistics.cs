using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Data;

/// <summary>
/// SQLite: keeps the planner's statistics up to date as the data grows and shifts. A few minutes
/// after start and then every hour, <c>PRAGMA optimize</c> analyzes the tables whose size moved
/// since their last analyze (bounded by <c>analysis_limit</c>, so even at ten million rows the
/// write lock it takes lasts milliseconds), and the deliveries table's rows are written back to
/// their shape (<see cref="PlannerStatistics.KeepShape"/>): averages over three statuses would
/// make "failed" look like a third of the table. Fresh connections load the new rows.
/// </summary>
public sealed class SqliteStatistics(IDbContextFactory<AppDbContext> dbFactory, ILogger<SqliteStatistics> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRun = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>Rows each index's analyze reads at most (SQLite recommends 100–1000).</summary>
    private const int AnalysisLimit = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(FirstRun, stoppingToken);
            using var timer = new PeriodicTimer(Interval);
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Busy or not migrated yet: the next hour tries again.
                    logger.LogWarning(exception, "Refreshing the planner statistics failed");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Analyzes what moved, puts the deliveries' rows back in shape, and lets fresh connections load them.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            await using (var optimize = connection.CreateCommand())
            {
                // 0x10002: look at every table, not only those this connection has queried.
                optimize.CommandText = $"PRAGMA analysis_limit = {AnalysisLimit}; PRAGMA optimize = 0x10002;";
                await optimize.ExecuteNonQueryAsync(cancellationToken);
            }

            PlannerStatistics.KeepShape(connection);
        }

        // Open connections keep the statistics they loaded; idle pooled ones are closed so the
        // next request's connection reads the new rows.
        SqliteConnection.ClearAllPools();
        logger.LogDebug("Planner statistics refreshed");
    }
}
