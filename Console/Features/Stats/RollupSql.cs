using System.Globalization;
using System.Text;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// The SQL of <see cref="DeliveryRollup"/> and <see cref="LatencyRollup"/> beside the ledger's
/// own upserts (<see cref="RollupChanges"/>): <see cref="Rebuild"/> recomputes a range of hours from
/// the raw rows. The trigger statements are kept for the migrations that created (2026-11-23) and
/// dropped (2026-12-01) them: since then the ledger keeps the rollups, aggregated per batch.
/// </summary>
public static class RollupSql
{
    /// <summary>One hour in ticks: timestamps are stored as UTC ticks, so an hour starts at <c>t - t % HourTicks</c>.</summary>
    public const long HourTicks = TimeSpan.TicksPerHour;

    private static readonly string Hour = HourTicks.ToString(CultureInfo.InvariantCulture);

    /// <summary>The latency bucket of <paramref name="duration"/> (a SQL expression), as <see cref="LatencyBuckets.Of"/> computes it.</summary>
    private static string BucketOf(string duration)
    {
        var sql = new StringBuilder("CASE");
        for (var i = 0; i < LatencyBuckets.UpperBoundsMs.Length; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $" WHEN {duration} <= {LatencyBuckets.UpperBoundsMs[i]} THEN {i}");
        }

        return sql.Append(CultureInfo.InvariantCulture, $" ELSE {LatencyBuckets.UpperBoundsMs.Length} END").ToString();
    }

    private static string Upsert(string workspace, string hour, string endpoint, string eventType, string created, string pending, string delivered, string failed, string attempts, string failedAttempts, string latency) => $"""
        INSERT INTO delivery_rollups (WorkspaceId, HourStart, EndpointId, EventType, Created, Pending, Delivered, Failed, Attempts, FailedAttempts, LatencySumMs)
        VALUES ({workspace}, {hour}, {endpoint}, {eventType}, {created}, {pending}, {delivered}, {failed}, {attempts}, {failedAttempts}, {latency})
        ON CONFLICT (WorkspaceId, HourStart, EndpointId, EventType) DO UPDATE SET
            Created = Created + excluded.Created, Pending = Pending + excluded.Pending,
            Delivered = Delivered + excluded.Delivered, Failed = Failed + excluded.Failed,
            Attempts = Attempts + excluded.Attempts, FailedAttempts = FailedAttempts + excluded.FailedAttempts,
            LatencySumMs = LatencySumMs + excluded.LatencySumMs;
        """;

    private static string LatencyUpsert(string row, int sign) => $"""
        INSERT INTO latency_rollups (WorkspaceId, HourStart, EndpointId, EventType, Bucket, Count)
        VALUES ({row}.WorkspaceId, {row}.StartedAt - {row}.StartedAt % {Hour}, {row}.EndpointId,
                (SELECT EventType FROM deliveries WHERE Id = {row}.DeliveryId), {BucketOf($"{row}.DurationMs")}, {sign})
        ON CONFLICT (WorkspaceId, HourStart, EndpointId, EventType, Bucket) DO UPDATE SET Count = Count + excluded.Count;
        """;

    private static string DeliveryDelta(string row, int sign) =>
        Upsert($"{row}.WorkspaceId", $"{row}.CreatedAt - {row}.CreatedAt % {Hour}", $"{row}.EndpointId", $"{row}.EventType",
            $"{sign}", $"{sign} * ({row}.Status = 0)", $"{sign} * ({row}.Status = 1)", $"{sign} * ({row}.Status = 2)", "0", "0", "0");

    private static string AttemptDelta(string row, int sign) =>
        Upsert($"{row}.WorkspaceId", $"{row}.StartedAt - {row}.StartedAt % {Hour}", $"{row}.EndpointId",
            $"(SELECT EventType FROM deliveries WHERE Id = {row}.DeliveryId)",
            "0", "0", "0", "0", $"{sign}", $"{sign} * (COALESCE({row}.ResponseStatus BETWEEN 200 AND 299, 0) = 0)", $"{sign} * {row}.DurationMs");

    public static readonly string CreateTriggers = $"""
        CREATE TRIGGER rollup_delivery_insert AFTER INSERT ON deliveries BEGIN
        {DeliveryDelta("NEW", 1)}
        END;
        CREATE TRIGGER rollup_delivery_status AFTER UPDATE OF Status ON deliveries WHEN OLD.Status <> NEW.Status BEGIN
        {Upsert("NEW.WorkspaceId", $"NEW.CreatedAt - NEW.CreatedAt % {Hour}", "NEW.EndpointId", "NEW.EventType", "0",
            "(NEW.Status = 0) - (OLD.Status = 0)", "(NEW.Status = 1) - (OLD.Status = 1)", "(NEW.Status = 2) - (OLD.Status = 2)", "0", "0", "0")}
        END;
        CREATE TRIGGER rollup_delivery_delete AFTER DELETE ON deliveries BEGIN
        {DeliveryDelta("OLD", -1)}
        END;
        CREATE TRIGGER rollup_attempt_insert AFTER INSERT ON delivery_attempts BEGIN
        {AttemptDelta("NEW", 1)}
        {LatencyUpsert("NEW", 1)}
        END;
        CREATE TRIGGER rollup_attempt_delete BEFORE DELETE ON delivery_attempts BEGIN
        {AttemptDelta("OLD", -1)}
        {LatencyUpsert("OLD", -1)}
        END;
        """;

    public const string DropTriggers = """
        DROP TRIGGER IF EXISTS rollup_delivery_insert;
        DROP TRIGGER IF EXISTS rollup_delivery_status;
        DROP TRIGGER IF EXISTS rollup_delivery_delete;
        DROP TRIGGER IF EXISTS rollup_attempt_insert;
        DROP TRIGGER IF EXISTS rollup_attempt_delete;
        """;

    /// <summary>
    /// Recomputes delivery_rollups and latency_rollups of the hours in [@from, @to) (ticks, hour-aligned) from the raw rows.
    /// Run it inside one write transaction. The same text on SQLite and PostgreSQL.
    /// </summary>
    public static readonly string HourlyRebuild = $"""
        DELETE FROM delivery_rollups WHERE "HourStart" >= @from AND "HourStart" < @to;
        DELETE FROM latency_rollups WHERE "HourStart" >= @from AND "HourStart" < @to;
        INSERT INTO delivery_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Created", "Pending", "Delivered", "Failed", "Attempts", "FailedAttempts", "LatencySumMs")
        SELECT "WorkspaceId", "HourStart", "EndpointId", "EventType", SUM("Created"), SUM("Pending"), SUM("Delivered"), SUM("Failed"), SUM("Attempts"), SUM("FailedAttempts"), SUM("LatencySumMs")
        FROM (
            SELECT "WorkspaceId", "CreatedAt" - "CreatedAt" % {Hour} AS "HourStart", "EndpointId", "EventType",
                   COUNT(*) AS "Created", SUM(CASE WHEN "Status" = 0 THEN 1 ELSE 0 END) AS "Pending",
                   SUM(CASE WHEN "Status" = 1 THEN 1 ELSE 0 END) AS "Delivered", SUM(CASE WHEN "Status" = 2 THEN 1 ELSE 0 END) AS "Failed",
                   0 AS "Attempts", 0 AS "FailedAttempts", 0 AS "LatencySumMs"
            FROM deliveries WHERE "CreatedAt" >= @from AND "CreatedAt" < @to
            GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT a."WorkspaceId", a."StartedAt" - a."StartedAt" % {Hour}, a."EndpointId", d."EventType",
                   0, 0, 0, 0, COUNT(*), SUM(CASE WHEN a."ResponseStatus" BETWEEN 200 AND 299 THEN 0 ELSE 1 END), SUM(a."DurationMs")
            FROM delivery_attempts a JOIN deliveries d ON d."Id" = a."DeliveryId"
            WHERE a."StartedAt" >= @from AND a."StartedAt" < @to
            GROUP BY 1, 2, 3, 4
        ) AS hourly
        GROUP BY "WorkspaceId", "HourStart", "EndpointId", "EventType";
        INSERT INTO latency_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket", "Count")
        SELECT a."WorkspaceId", a."StartedAt" - a."StartedAt" % {Hour}, a."EndpointId", d."EventType", {BucketOf("a.\"DurationMs\"")}, COUNT(*)
        FROM delivery_attempts a JOIN deliveries d ON d."Id" = a."DeliveryId"
        WHERE a."StartedAt" >= @from AND a."StartedAt" < @to
        GROUP BY 1, 2, 3, 4, 5;
        """;

    /// <summary>The workspace-wide latency histogram of [@from, @to) from <c>latency_rollups</c> (which <see cref="HourlyRebuild"/> fills first).</summary>
    public const string WorkspaceLatencyRebuild = """
        DELETE FROM workspace_latency_rollups WHERE "HourStart" >= @from AND "HourStart" < @to;
        INSERT INTO workspace_latency_rollups ("WorkspaceId", "HourStart", "Bucket", "Count")
        SELECT "WorkspaceId", "HourStart", "Bucket", SUM("Count") FROM latency_rollups
        WHERE "HourStart" >= @from AND "HourStart" < @to
        GROUP BY 1, 2, 3;
        """;

    /// <summary>
    /// Recomputes every rollup of the hours in [@from, @to) (ticks, hour-aligned) from the raw rows.
    /// Run it inside one write transaction.
    /// </summary>
    public static readonly string Rebuild = HourlyRebuild + "\n" + WorkspaceLatencyRebuild;
}
