using DeliveryConsole.Data;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeliveryConsole.Tests.Data;

/// <summary>
/// The inspector's filters on a table whose statistics were measured: 30,000 deliveries, the older
/// two thirds spread over the three statuses, the newest third almost all delivered (one in 500
/// failed), as on a console that has run a while. Measured averages say each status is a third of
/// the table, so the planner would walk the time index and filter for "failed" through the
/// newest rows; the statistics job puts the deliveries' rows back in shape after analyzing.
/// </summary>
public sealed class PlannerStatisticsTests
{
    private const string SkewedRows = """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
        INSERT INTO deliveries ("Id", "WorkspaceId", "EventId", "EndpointId", "EndpointScope", "EventType", "Channel",
            "TargetUrl", "TargetHost", "PayloadJson", "Status", "Attempts", "CreatedAt", "UpdatedAt")
        SELECT printf('%08d', i), 'w', 'ev', CASE WHEN i % 10 = 0 THEN 'e2' ELSE 'e1' END, 0,
            CASE WHEN i % 2 = 0 THEN 'call.completed' ELSE 'call.failed' END, CASE WHEN i % 3 = 0 THEN 'sms' ELSE 'voice' END,
            'https://a.example/hook', CASE WHEN i % 5 = 0 THEN 'a.example' ELSE 'b.example' END, '{}',
            CASE WHEN i > 20000 THEN (CASE WHEN i % 500 = 0 THEN 2 ELSE 1 END) ELSE i % 3 END, 1, i, i
        FROM n
        """;

    [SqliteTheory]
    [InlineData("", "IX_deliveries_WorkspaceId_CreatedAt_Id")]
    [InlineData("AND Status = 2", "IX_deliveries_WorkspaceId_Status_CreatedAt")]
    [InlineData("AND Status = 1", "IX_deliveries_WorkspaceId_Status_CreatedAt")]
    [InlineData("AND Status = 0", "IX_deliveries_WorkspaceId_Status_CreatedAt")]
    [InlineData("AND EventType = 'call.completed'", "IX_deliveries_WorkspaceId_EventType_CreatedAt")]
    [InlineData("AND Channel = 'sms'", "IX_deliveries_WorkspaceId_Channel_CreatedAt")]
    [InlineData("AND TargetHost = 'a.example'", "IX_deliveries_TargetHost_WorkspaceId_CreatedAt")]
    [InlineData("AND EndpointId = 'e2'", "IX_deliveries_EndpointId_CreatedAt")]
    public async Task After_the_statistics_job_each_filter_of_a_skewed_table_reads_its_own_index(string condition, string index)
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            await db.Database.OpenConnectionAsync();
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            Execute(connection, "PRAGMA foreign_keys = OFF");
            Execute(connection, SkewedRows);
            // What the seed does, and what PRAGMA optimize does once the table has grown.
            Execute(connection, "ANALYZE");
            Assert.Contains(Plan(connection, "AND Status = 2"), step => step.Contains("INDEX IX_deliveries_WorkspaceId_CreatedAt_Id ", StringComparison.Ordinal));
        }

        await new SqliteStatistics(database.Factory, NullLogger<SqliteStatistics>.Instance).RefreshAsync(CancellationToken.None);

        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            await db.Database.OpenConnectionAsync();
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            var plan = Plan(connection, condition);
            Assert.Contains(plan, step => step.Contains($"INDEX {index} ", StringComparison.Ordinal));
            Assert.DoesNotContain(plan, step => step == "USE TEMP B-TREE FOR ORDER BY");
            var rows = Scalar(connection, "SELECT stat FROM sqlite_stat1 WHERE tbl = 'deliveries' AND idx = 'IX_deliveries_WorkspaceId_Status_CreatedAt'");
            Assert.StartsWith("30000 30000 50", rows, StringComparison.Ordinal);
        }
    }

    private static List<string> Plan(SqliteConnection connection, string condition)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT Id FROM deliveries WHERE WorkspaceId = 'w' {condition} ORDER BY CreatedAt DESC, Id DESC LIMIT 50";
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string)command.ExecuteScalar()!;
    }
}
