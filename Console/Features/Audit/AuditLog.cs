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
        db.AuditEntries.Add(new AuditEntry
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
        });
    }
}

public static class AuditOutcome
{
    public const string Success = "success";
    public const string Failure = "failure";
}
