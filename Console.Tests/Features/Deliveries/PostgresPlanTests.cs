using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The ledger's by-id statements read the primary key on PostgreSQL whatever the statistics say.</summary>
public sealed class PostgresPlanTests
{
    [PostgresFact]
    public async Task Recording_states_reads_the_primary_key_even_when_statistics_say_nothing_is_pending()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var db = await database.Factory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        // Statistics taken while the table was empty, then a burst of pending rows (the parents are
        // not needed for a plan: foreign keys are not checked in this session).
        await db.Database.ExecuteSqlRawAsync("""
            SET session_replication_role = replica;
            ANALYZE deliveries;
            INSERT INTO deliveries ("Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "EventType", "Channel", "TargetUrl", "TargetHost",
                "PayloadJson", "Status", "Attempts", "NextAttemptAt", "LeaseOwner", "CreatedAt", "UpdatedAt")
            SELECT md5(n::text), 'w', 'e' || n, 'endpoint', 0, 'call.completed', 'voice', 'https://example.com/', 'example.com', '{{}}', 0, 0, n, 'node', n, n
            FROM generate_series(1, 5000) AS n;
            SET plan_cache_mode = force_generic_plan;
            """);

        Assert.Contains("PK_deliveries", await PlanAsync(db, DeliveryLedger.PostgresRecordStates));
        // The same statement with the plain status term takes the due index: what the test guards against.
        Assert.Contains("IX_deliveries_due", await PlanAsync(db, DeliveryLedger.PostgresRecordStates.Replace("d.\"Status\" + 0 = 0", "d.\"Status\" = 0")));
    }

    [PostgresFact]
    public async Task A_table_that_outgrew_its_statistics_is_analyzed_without_waiting_for_autovacuum()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("""
                SET session_replication_role = replica;
                INSERT INTO audit_entries ("WorkspaceId", "ActorType", "ActorName", "Action", "Outcome", "At")
                SELECT 'w', 'system', 'bench', 'test', 'success', n FROM generate_series(1, 3000) AS n
                """);
        }

        var statistics = new PostgresStatistics(database.Factory, Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresStatistics>.Instance);
        // The server's activity counters reach the statistics view within a second.
        IReadOnlyList<string> analyzed = [];
        for (var i = 0; i < 40 && !analyzed.Contains("audit_entries"); i++)
        {
            await Task.Delay(100);
            analyzed = await statistics.AnalyzeBehindAsync(CancellationToken.None);
        }

        Assert.Contains("audit_entries", analyzed);
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            Assert.Equal(3000, await db.Database.SqlQueryRaw<float>("SELECT reltuples AS \"Value\" FROM pg_class WHERE relname = 'audit_entries'").SingleAsync());
        }

        Assert.DoesNotContain("audit_entries", await statistics.AnalyzeBehindAsync(CancellationToken.None));
    }

    [PostgresFact]
    public async Task Each_inspector_filter_of_a_skewed_table_reads_its_own_index()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var db = await database.Factory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        // The older two thirds spread over the three statuses, the newest third almost all
        // delivered (one in 500 failed), as on a console that has run a while; then analyzed.
        await db.Database.ExecuteSqlRawAsync("""
            SET session_replication_role = replica;
            INSERT INTO deliveries ("Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "EventType", "Channel", "TargetUrl", "TargetHost",
                "PayloadJson", "Status", "Attempts", "CreatedAt", "UpdatedAt")
            SELECT md5(n::text), 'w', 'ev', CASE WHEN n % 10 = 0 THEN 'e2' ELSE 'e1' END, 0,
                CASE WHEN n % 2 = 0 THEN 'call.completed' ELSE 'call.failed' END, CASE WHEN n % 3 = 0 THEN 'sms' ELSE 'voice' END,
                'https://a.example/hook', CASE WHEN n % 5 = 0 THEN 'a.example' ELSE 'b.example' END, '{{}}',
                CASE WHEN n > 20000 THEN (CASE WHEN n % 500 = 0 THEN 2 ELSE 1 END) ELSE n % 3 END, 1, n, n
            FROM generate_series(1, 30000) AS n;
            ANALYZE deliveries;
            """);

        foreach (var (condition, index) in new[]
        {
            ("", "IX_deliveries_WorkspaceId_CreatedAt_Id"),
            ("AND \"Status\" = 2", "IX_deliveries_WorkspaceId_Status_CreatedAt"),
            ("AND \"Status\" = 0", "IX_deliveries_WorkspaceId_Status_CreatedAt"),
            ("AND \"EndpointId\" = 'e2'", "IX_deliveries_EndpointId_CreatedAt"),
        })
        {
            var plan = await ExplainAsync(db, $"SELECT \"Id\" FROM deliveries WHERE \"WorkspaceId\" = 'w' {condition} ORDER BY \"CreatedAt\" DESC, \"Id\" DESC LIMIT 50");
            Assert.True(plan.Contains(index, StringComparison.Ordinal), $"{condition}: {plan}");
            // Rows come out of the index in time order: at most ties are sorted (an incremental sort), never the whole match.
            Assert.DoesNotContain("->  Sort  (", plan, StringComparison.Ordinal);
        }
    }

    private static async Task<string> ExplainAsync(AppDbContext db, string sql)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "EXPLAIN " + sql;
        return await PlanLinesAsync(command);
    }

    private static async Task<string> PlanAsync(AppDbContext db, string sql)
    {
        var (text, parameters) = RawSql.PositionalText(sql);
        var name = "p" + Guid.NewGuid().ToString("N");
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PREPARE {name} AS {text}";
        await command.ExecuteNonQueryAsync();
        command.CommandText = $"EXPLAIN EXECUTE {name}({string.Join(", ", Enumerable.Repeat("NULL", parameters))})";
        return await PlanLinesAsync(command);
    }

    private static async Task<string> PlanLinesAsync(System.Data.Common.DbCommand command)
    {
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        return string.Join("\n", lines);
    }
}
