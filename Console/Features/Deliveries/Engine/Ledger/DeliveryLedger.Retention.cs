using DeliveryConsole.Data;

namespace DeliveryConsole.Features.Deliveries.Engine;

// Retention: finished deliveries removed past the window, response bodies trimmed.
public sealed partial class DeliveryLedger
{
    /// <summary>
    /// Removes up to <paramref name="size"/> finished deliveries of a workspace created before
    /// <paramref name="cutoff"/>, with their attempts and the events left without deliveries.
    /// The rollups keep their figures: history is trimmed, the hourly counts are not.
    /// </summary>
    public static async Task<int> RemoveFinishedAsync(AppDbContext db, Guid workspace, DateTime cutoff, int size)
    {
        var remove = RawSql.Prepared(db, db.IsPostgres()
            ? """
              WITH batch AS (
                  SELECT "Id" FROM deliveries
                  WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff AND "Status" <> 0
                  ORDER BY "CreatedAt" LIMIT @size),
              attempts AS (DELETE FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM batch)),
              removed AS (DELETE FROM deliveries WHERE "Id" IN (SELECT "Id" FROM batch) RETURNING 1)
              SELECT COUNT(*) FROM removed;
              DELETE FROM events WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d."EventId" = events."Id");
              """
            : """
              CREATE TEMP TABLE IF NOT EXISTS retention_batch ("Id" TEXT PRIMARY KEY);
              DELETE FROM retention_batch;
              INSERT INTO retention_batch
                  SELECT "Id" FROM deliveries
                  WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff AND "Status" <> 0
                  ORDER BY "CreatedAt" LIMIT @size;
              DELETE FROM delivery_attempts WHERE "DeliveryId" IN (SELECT "Id" FROM retention_batch);
              DELETE FROM deliveries WHERE "Id" IN (SELECT "Id" FROM retention_batch);
              DELETE FROM events WHERE "WorkspaceId" = @workspace AND "CreatedAt" < @cutoff
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d."EventId" = events."Id");
              SELECT COUNT(*) FROM retention_batch;
              """);
        remove.Set("@workspace", workspace);
        remove.Set("@cutoff", cutoff);
        remove.Set("@size", size);
        return await remove.ExecuteScalarAsync() is long count ? (int)count : 0;
    }

    /// <summary>The mark of <see cref="TrimResponseBodiesAsync"/>: attempts started before it have had their bodies removed.</summary>
    public const string BodiesTrimmedMark = "response-bodies-trimmed";

    /// <summary>
    /// Removes the response bodies of up to <paramref name="size"/> attempts that started in
    /// [<paramref name="from"/>, <paramref name="to"/>), read per endpoint through the
    /// (endpoint, started) index; their status, headers, size and timing stay. When fewer than
    /// <paramref name="size"/> were left, the range is done and the mark moves to <paramref name="to"/>.
    /// Returns how many were trimmed.
    /// </summary>
    public static async Task<int> TrimResponseBodiesAsync(AppDbContext db, long from, long to, int size)
    {
        // SQLite picks the rows by rowid (its table's own key), PostgreSQL by the primary key.
        var rowKey = db.IsPostgres() ? "\"Id\"" : "rowid";
        var trim = RawSql.Prepared(db, $$"""
            UPDATE delivery_attempts SET "ResponseBody" = NULL
            WHERE {{rowKey}} IN (
                SELECT a.{{rowKey}} FROM webhook_endpoints e
                JOIN delivery_attempts a ON a."EndpointId" = e."Id" AND a."StartedAt" >= @from AND a."StartedAt" < @to
                WHERE a."ResponseBody" IS NOT NULL
                LIMIT @size)
            """);
        trim.Set("@from", from);
        trim.Set("@to", to);
        trim.Set("@size", size);
        var trimmed = await trim.ExecuteNonQueryAsync();
        if (trimmed < size)
        {
            var mark = RawSql.Prepared(db, $$"""
                INSERT INTO engine_marks ("Name", "Value") VALUES (@name, @value)
                ON CONFLICT ("Name") DO UPDATE SET "Value" = {{(db.IsPostgres() ? "GREATEST" : "MAX")}}(engine_marks."Value", excluded."Value")
                """);
            mark.Set("@name", BodiesTrimmedMark);
            mark.Set("@value", to);
            await mark.ExecuteNonQueryAsync();
        }

        return trimmed;
    }
}
