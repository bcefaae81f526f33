namespace DeliveryConsole.Data;

/// <summary>
/// Fixed <c>sqlite_stat1</c> rows for the deliveries table. Without statistics SQLite assumes an
/// equality on any index column matches ~10 rows, so it took whichever index was declared last for a
/// plain "newest deliveries of this workspace" list and sorted a million rows. These rows describe the
/// shape instead (one workspace may hold everything; a status, event type, channel, endpoint or host
/// narrows it, and its rows come out in time order), so each filter gets its own index, in order,
/// and stops after one page. Written by a migration, and written back after every ANALYZE
/// (<see cref="KeepShape"/>): measured rows hold only averages (three statuses: a third of the
/// table each), which on a skewed table (recent rows almost all delivered) made the planner walk
/// the time index and filter for "failed" instead of reading the status index.
/// </summary>
public static class PlannerStatistics
{
    public static readonly IReadOnlyDictionary<string, string> Deliveries = new Dictionary<string, string>
    {
        ["IX_deliveries_WorkspaceId_CreatedAt_Id"] = "1000000 1000000 1 1",
        ["IX_deliveries_WorkspaceId_Status_CreatedAt"] = "1000000 1000000 50 1",
        ["IX_deliveries_WorkspaceId_EventType_CreatedAt"] = "1000000 1000000 50 1",
        ["IX_deliveries_WorkspaceId_Channel_CreatedAt"] = "1000000 1000000 50 1",
        ["IX_deliveries_TargetHost_WorkspaceId_CreatedAt"] = "1000000 50 50 1",
        ["IX_deliveries_EndpointId_CreatedAt"] = "1000000 50 1",
        ["IX_deliveries_ApplicationId_CreatedAt"] = "1000000 50 1",
        ["IX_deliveries_EventId"] = "1000000 2",
        ["IX_deliveries_CallId"] = "1000000 5",
        // The dispatcher's partial index of pending rows is small.
        ["IX_deliveries_due"] = "1000 1 1",
        ["sqlite_autoindex_deliveries_1"] = "1000000 1",
    };

    /// <summary>
    /// The deliveries rows back to <see cref="Deliveries"/>'s shape after an ANALYZE, with the row
    /// count it measured (other tables keep their measured rows), then reloaded on this connection;
    /// the schema change tells every other connection to reload them too.
    /// </summary>
    public static void KeepShape(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT stat FROM sqlite_stat1 WHERE tbl = 'deliveries' AND idx = 'sqlite_autoindex_deliveries_1'";
        var measured = command.ExecuteScalar() as string;
        var rows = long.TryParse(measured?.Split(' ')[0], out var counted) ? Math.Max(counted, 1000) : 1000000;
        command.CommandText = "DELETE FROM sqlite_stat1 WHERE tbl = 'deliveries'";
        command.ExecuteNonQuery();
        command.CommandText = "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('deliveries', $idx, $stat)";
        var idx = command.Parameters.Add("$idx", Microsoft.Data.Sqlite.SqliteType.Text);
        var stat = command.Parameters.Add("$stat", Microsoft.Data.Sqlite.SqliteType.Text);
        foreach (var (index, shape) in Deliveries)
        {
            idx.Value = index;
            stat.Value = shape.Replace("1000000", rows.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
        command.Transaction = null;
        command.Parameters.Clear();
        command.CommandText = "ANALYZE sqlite_schema";
        command.ExecuteNonQuery();
    }

    /// <summary>Creates sqlite_stat1 when missing (ANALYZE of a one-row table) and replaces the deliveries rows.</summary>
    public static string Sql() =>
        "ANALYZE \"__EFMigrationsHistory\";\nDELETE FROM sqlite_stat1 WHERE tbl = 'deliveries';\n"
        + string.Join("\n", Deliveries.Select(p => $"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('deliveries', '{p.Key}', '{p.Value}');"));
}
