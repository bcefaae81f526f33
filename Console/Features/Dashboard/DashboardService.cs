using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Dashboard;

/// <summary>Everything the dashboard shows for one window, read in one go.</summary>
public sealed record DashboardData(
    DeliveryStats Current,
    DeliveryStats Previous,
    long PendingNow,
    AllTimeStats AllTime,
    IReadOnlyList<EndpointOverview> Endpoints,
    int UpcomingCallbacks,
    DateTime? NextCallbackAt,
    int LiveCalls,
    DateTime At)
{
    /// <summary>True when the workspace has never sent anything and has nowhere to send it.</summary>
    public bool IsEmpty => AllTime.Total == 0 && Endpoints.Count == 0;
}

/// <summary>
/// The dashboard's figures: delivery stats of the window and of the window before it (from the
/// hourly rollups, never from the deliveries themselves), endpoint health for the window, the
/// all-time totals, and the callbacks and calls counts from their tables' indexes.
/// </summary>
public sealed class DashboardService(IDbContextFactory<AppDbContext> dbFactory, StatsService stats, EndpointService endpoints, TimeProvider clock)
{
    public async Task<DashboardData> GetAsync(Caller caller, int hours, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var now = clock.GetUtcNow().UtcDateTime;
        var window = StatsWindow.Last(hours, now);
        var current = await stats.GetAsync(caller, window, cancellationToken);
        var previous = await stats.GetAsync(caller, window.Previous, cancellationToken);
        var pendingNow = await stats.PendingNowAsync(caller, cancellationToken);
        var allTime = await stats.GetAllTimeAsync(caller, cancellationToken);
        var health = await endpoints.OverviewAsync(caller, window, cancellationToken);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var upcoming = db.Callbacks.AsNoTracking()
            .Where(c => c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled && c.ScheduledAt >= now);
        var upcomingCount = await upcoming.CountAsync(cancellationToken);
        var next = await upcoming.OrderBy(c => c.ScheduledAt).Select(c => (DateTime?)c.ScheduledAt).FirstOrDefaultAsync(cancellationToken);
        var live = await db.Calls.AsNoTracking()
            .CountAsync(c => c.WorkspaceId == caller.WorkspaceId && (c.Status == CallStatus.Ringing || c.Status == CallStatus.InProgress), cancellationToken);
        return new DashboardData(current, previous, pendingNow, allTime, health, upcomingCount, next, live, now);
    }
}
