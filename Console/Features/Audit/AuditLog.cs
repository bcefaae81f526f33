using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;

namespace DeliveryConsole.Features.Audit;

/// <summary>
/// Adds an audit entry to the same unit of work as the change it describes, so the change and
/// its record are saved together or not at all.
/// </summary>
public static class AuditLog
{
    public static void Record(
        this AppDbContext db,
        Caller caller,
        DateTime at,
        string action,
        string? targetType,
        string? targetId,
        string? details = null,
        string outcome = AuditOutcome.Success)
    {
        db.AuditEntries.Add(Entry(caller, at, action, targetType, targetId, details, outcome));
    }

    /// <summary>The entry <see cref="Record"/> adds, for the writer's typed operations (<see cref="InsertAsync"/>).</summary>
    public static AuditEntry Entry(
        Caller caller,
        DateTime at,
        string action,
        string? targetType,
        string? targetId,
        string? details = null,
        string outcome = AuditOutcome.Success) => new()
        {
            WorkspaceId = caller.WorkspaceId,
            ActorType = caller.ActorType,
            ActorId = caller.ActorId,
            ActorName = caller.ActorName,
            Action = action,
            TargetType = targetType,
            TargetId = targetId,
            Outcome = outcome,
            Details = details is { Length: > 4000 } ? details[..4000] : details,
            At = at,
        };

    /// <summary>Inserts an entry with a prepared statement in <paramref name="db"/>'s transaction (no unit of work).</summary>
    public static async Task InsertAsync(AppDbContext db, AuditEntry entry)
    {
        var insert = RawSql.Prepared(db, """
            INSERT INTO audit_entries ("WorkspaceId", "ActorType", "ActorId", "ActorName", "Action", "TargetType", "TargetId", "Outcome", "Details", "At")
            VALUES (@workspace, @actorType, @actorId, @actorName, @action, @targetType, @targetId, @outcome, @details, @at)
            """);
        insert.Set("@workspace", entry.WorkspaceId);
        insert.Set("@actorType", entry.ActorType);
        insert.Set("@actorId", entry.ActorId);
        insert.Set("@actorName", entry.ActorName);
        insert.Set("@action", entry.Action);
        insert.Set("@targetType", entry.TargetType);
        insert.Set("@targetId", entry.TargetId);
        insert.Set("@outcome", entry.Outcome);
        insert.Set("@details", entry.Details);
        insert.Set("@at", entry.At);
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>Inserts entries in <paramref name="db"/>'s transaction: on PostgreSQL in one statement from arrays.</summary>
    public static async Task InsertAsync(AppDbContext db, IReadOnlyList<AuditEntry> entries)
    {
        if (!db.IsPostgres() || entries.Count == 1)
        {
            foreach (var entry in entries)
            {
                await InsertAsync(db, entry);
            }

            return;
        }

        var insert = RawSql.Prepared(db, """
            INSERT INTO audit_entries ("WorkspaceId", "ActorType", "ActorId", "ActorName", "Action", "TargetType", "TargetId", "Outcome", "Details", "At")
            SELECT * FROM unnest(@workspace::text[], @actorType::text[], @actorId::text[], @actorName::text[], @action::text[], @targetType::text[],
                @targetId::text[], @outcome::text[], @details::text[], @at::bigint[])
            """);
        insert.SetEach("@workspace", entries, e => e.WorkspaceId);
        insert.SetEach("@actorType", entries, e => e.ActorType);
        insert.SetEach("@actorId", entries, e => e.ActorId);
        insert.SetEach("@actorName", entries, e => e.ActorName);
        insert.SetEach("@action", entries, e => e.Action);
        insert.SetEach("@targetType", entries, e => e.TargetType);
        insert.SetEach("@targetId", entries, e => e.TargetId);
        insert.SetEach("@outcome", entries, e => e.Outcome);
        insert.SetEach("@details", entries, e => e.Details);
        insert.SetEach("@at", entries, e => e.At);
        await insert.ExecuteNonQueryAsync();
    }
}

public static class AuditOutcome
{
    public const string Success = "success";
    public const string Failure = "failure";
}
