namespace DeliveryConsole.Data;

/// <summary>
/// Fixed <c>sqlite_stat1</c> rows for the deliveries table. Without statistics SQLite assumes an
/// equality on any index column matches ~10 rows, so it took whichever index was declared last for a
/// plain "newest deliveries of this workspace" list and sorted a million rows. These rows describe the
/// shape instead (one workspace may hold everything; a status, event type, channel, endpoint or host
/// narrows it, and its rows come out in time order), so each filter gets its own index, in order,
/// and stops after one page. Written by a migration; a later ANALYZE replaces them with measured ones.
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

    /// <summary>Creates sqlite_stat1 when missing (ANALYZE of a one-row table) and replaces the deliveries rows.</summary>
    public static string Sql() =>
        "ANALYZE \"__EFMigrationsHistory\";\nDELETE FROM sqlite_stat1 WHERE tbl = 'deliveries';\n"
        + string.Join("\n", Deliveries.Select(p => $"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('deliveries', '{p.Key}', '{p.Value}');"));
}
