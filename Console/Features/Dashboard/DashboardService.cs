using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;

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
public sealed class DashboardService(StatsService stats, EndpointService endpoints, CallbackService callbacks, CallService calls, TimeProvider clock)
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

        var (upcomingCount, next) = await callbacks.UpcomingAsync(caller, cancellationToken);
        var live = await calls.LiveCountAsync(caller, cancellationToken);
        return new DashboardData(current, previous, pendingNow, allTime, health, upcomingCount, next, live, now);
    }
}
