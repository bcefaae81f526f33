using DeliveryConsole.Data;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>One workspace's last 24 hours, for staff deciding where to look first.</summary>
public sealed record WorkspaceHealth(
    WorkspaceSummary Workspace,
    long Deliveries,
    long Delivered,
    long Failed,
    long Pending,
    int FailingEndpoints,
    int DisabledEndpoints,
    int ScheduledCallbacks,
    bool ViaStaff)
{
    /// <summary>Delivered of finished deliveries; null without finished ones.</summary>
    public double? SuccessRate => Delivered + Failed == 0 ? null : (double)Delivered / (Delivered + Failed);
}

/// <summary>
/// The staff workspaces list: every workspace the user may see with its deliveries of the last 24
/// hours (from the hourly rollups, one grouped read over the listed workspaces), success rate, failing and disabled
/// endpoints and scheduled callbacks, worst first: lowest success rate, then most failures.
/// </summary>
public sealed class WorkspaceOverviewService(IDbContextFactory<AppDbContext> dbFactory, WorkspaceAccess access, TimeProvider clock)
{
    public async Task<IReadOnlyList<WorkspaceHealth>> ListAsync(string userId, string? search, CancellationToken cancellationToken = default)
    {
        var grants = await access.ListAsync(userId, search, limit: 500, cancellationToken);
        if (grants.Count == 0)
        {
            return [];
        }

        var since = clock.GetUtcNow().UtcDateTime.AddHours(-24);
        since = new DateTime(since.Year, since.Month, since.Day, since.Hour, 0, 0, DateTimeKind.Utc);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = grants.Select(g => g.Workspace.Id).ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => ids.Contains(e.WorkspaceId) && e.DeletedAt == null && (e.Status == EndpointStatus.Disabled || e.ConsecutiveFailures > 0))
            .GroupBy(e => e.WorkspaceId)
            .Select(g => new { WorkspaceId = g.Key, Failing = g.Count(e => e.Status != EndpointStatus.Disabled), Disabled = g.Count(e => e.Status == EndpointStatus.Disabled) })
            .ToDictionaryAsync(x => x.WorkspaceId, cancellationToken);
        var callbacks = await db.Callbacks.AsNoTracking()
            .Where(c => ids.Contains(c.WorkspaceId) && c.Status == CallbackStatus.Scheduled)
            .GroupBy(c => c.WorkspaceId)
            .Select(g => new { WorkspaceId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.WorkspaceId, x => x.Count, cancellationToken);

        var totals = await db.DeliveryRollups.AsNoTracking()
            .Where(r => ids.Contains(r.WorkspaceId) && r.HourStart >= since)
            .GroupBy(r => r.WorkspaceId)
            .Select(g => new { WorkspaceId = g.Key, Created = g.Sum(r => r.Created), Delivered = g.Sum(r => r.Delivered), Failed = g.Sum(r => r.Failed), Pending = g.Sum(r => r.Pending) })
            .ToDictionaryAsync(t => t.WorkspaceId, cancellationToken);
        var rows = grants.Select(grant =>
        {
            var id = grant.Workspace.Id;
            var day = totals.GetValueOrDefault(id);
            var endpoint = endpoints.GetValueOrDefault(id);
            return new WorkspaceHealth(grant.Workspace, day?.Created ?? 0, day?.Delivered ?? 0, day?.Failed ?? 0, day?.Pending ?? 0,
                endpoint?.Failing ?? 0, endpoint?.Disabled ?? 0, callbacks.GetValueOrDefault(id), grant.ViaStaff);
        }).ToList();

        return rows
            .OrderBy(r => r.SuccessRate ?? 2)
            .ThenByDescending(r => r.Failed)
            .ThenByDescending(r => r.DisabledEndpoints + r.FailingEndpoints)
            .ThenBy(r => r.Workspace.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>A new workspace, made by platform staff admins; they land in it as its first admin.</summary>
    public async Task<WorkspaceSummary> CreateAsync(Access.Caller caller, string name, WorkspaceService workspaces, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user" || await access.StaffRoleAsync(caller.ActorId, cancellationToken) != Access.Role.Admin)
        {
            throw new ForbiddenException("Only platform staff with the admin role can create workspaces.");
        }

        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > 200)
        {
            throw new ValidationException("body", "name", "Give the workspace a name of 1 to 200 characters.");
        }

        var (workspace, created) = await workspaces.EnsureAsync(trimmed, cancellationToken);
        if (!created)
        {
            throw new ConflictException($"A workspace named {trimmed} already exists.");
        }

        access.ForgetWorkspaces();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        db.WorkspaceMembers.Add(new WorkspaceMember { UserId = caller.ActorId, WorkspaceId = workspace.Id, Role = Access.Role.Admin, CreatedAt = now });
        Audit.AuditLog.Record(db, caller with { WorkspaceId = workspace.Id }, now, "workspace.created", "workspace", workspace.Id.ToString(), trimmed);
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(caller.ActorId);
        return new WorkspaceSummary(workspace.Id, workspace.Name, workspace.Slug ?? workspace.Id.ToString());
    }
}
