using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Dashboard;

public sealed record DashboardSummary(
    int Delivered24h, int Failed24h, int Pending24h, int PendingNow, int ActiveEndpoints, int DisabledEndpoints,
    int UpcomingCallbacks, int LiveCalls, DateTime? NextCallbackAt)
{
    public int Total24h => Delivered24h + Failed24h + Pending24h;

    public double? SuccessRate24h => Delivered24h + Failed24h == 0 ? null : (double)Delivered24h / (Delivered24h + Failed24h);
}

/// <summary>
/// The dashboard's first figures, counted over indexed ranges (the last 24 h of one workspace).
/// Issue #5 replaces the delivery counts with hourly rollups.
/// </summary>
public sealed class DashboardSummaryService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<DashboardSummary> GetAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now.AddHours(-24);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var byStatus = await db.Deliveries.AsNoTracking()
            .Where(d => d.WorkspaceId == caller.WorkspaceId && d.CreatedAt >= since)
            .GroupBy(d => d.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var pendingNow = await db.Deliveries.AsNoTracking()
            .CountAsync(d => d.WorkspaceId == caller.WorkspaceId && d.Status == DeliveryStatus.Pending, cancellationToken);
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null)
            .GroupBy(e => e.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var upcoming = db.Callbacks.AsNoTracking()
            .Where(c => c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled && c.ScheduledAt >= now);
        var upcomingCount = await upcoming.CountAsync(cancellationToken);
        var next = await upcoming.OrderBy(c => c.ScheduledAt).Select(c => (DateTime?)c.ScheduledAt).FirstOrDefaultAsync(cancellationToken);
        var live = await db.Calls.AsNoTracking()
            .CountAsync(c => c.WorkspaceId == caller.WorkspaceId && (c.Status == CallStatus.Ringing || c.Status == CallStatus.InProgress), cancellationToken);

        int Count(DeliveryStatus status) => byStatus.FirstOrDefault(s => s.Status == status)?.Count ?? 0;
        int Endpoints(EndpointStatus status) => endpoints.FirstOrDefault(s => s.Status == status)?.Count ?? 0;
        return new DashboardSummary(
            Count(DeliveryStatus.Delivered), Count(DeliveryStatus.Failed), Count(DeliveryStatus.Pending), pendingNow,
            Endpoints(EndpointStatus.Active), Endpoints(EndpointStatus.Disabled), upcomingCount, live, next);
    }
}
