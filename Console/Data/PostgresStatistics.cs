using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Data;

/// <summary>
/// PostgreSQL: analyzes a table as soon as it has changed by more rows than it held at its last
/// analyze (and by at least 1,000), looking every few seconds. Autovacuum does the same at 10%
/// growth, but looks once a minute: a fresh database, or one that grows from thousands to
/// millions of rows in a burst, would run for that minute on plans made when its tables were
/// nearly empty (the writer's prepared statements keep their generic plans until the table's
/// statistics change; one that took a sequential scan of a "small" deliveries table cost 50 ms
/// per batch and more as the table grew). After the first doublings this runs rarely.
/// </summary>
public sealed class PostgresStatistics(IDbContextFactory<AppDbContext> dbFactory, ILogger<PostgresStatistics> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    /// <summary>The tables whose statistics are behind: changed since the last analyze by more than they held then.</summary>
    internal const string BehindSql = """
        SELECT quote_ident(relname) AS "Value" FROM pg_stat_user_tables
        WHERE schemaname = current_schema() AND n_mod_since_analyze >= 1000
          AND n_mod_since_analyze > (SELECT GREATEST(c.reltuples, 0) FROM pg_class c WHERE c.oid = relid)
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await AnalyzeBehindAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Not migrated yet, or the server is away: the next look tries again.
                logger.LogDebug(exception, "Looking for tables to analyze failed");
            }
        }
    }

    /// <summary>Analyzes every table whose statistics are behind; returns their names.</summary>
    public async Task<IReadOnlyList<string>> AnalyzeBehindAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var behind = await db.Database.SqlQueryRaw<string>(BehindSql).ToListAsync(cancellationToken);
        foreach (var table in behind)
        {
            // The name comes from the catalog, quoted by the server (quote_ident).
            await using var analyze = RawSql.Command(db, "ANALYZE " + table);
            await analyze.ExecuteNonQueryAsync(cancellationToken);
            logger.LogDebug("Analyzed {Table}: its statistics were behind its size", table);
        }

        return behind;
    }
}
