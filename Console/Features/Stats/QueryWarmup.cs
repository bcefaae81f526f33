using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Dashboard;
using DeliveryConsole.Features.Deliveries;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// Runs the dashboard's and the inspector's queries once after start-up, against a workspace that
/// does not exist (index seeks that find nothing), so EF Core has compiled them and the JIT has
/// run before the first person opens the page. Takes about a second in the background.
/// </summary>
public sealed class QueryWarmup(DashboardService dashboard, DeliveryQueries deliveries, ILogger<QueryWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nobody = Caller.System(Guid.Empty, "warm-up");
        try
        {
            await dashboard.GetAsync(nobody, 168, stoppingToken);
            await deliveries.PageAsync(nobody, new DeliveryFilter(), DeliverySort.Newest, 0, 50, stoppingToken);
            await deliveries.PageAsync(nobody, new DeliveryFilter { Status = DeliveryStatus.Failed }, DeliverySort.Newest, 0, 50, stoppingToken, countUpTo: 10_000);
            await deliveries.LatestResponseBodiesAsync([Guid.Empty], stoppingToken);
        }
        catch (Exception exception)
        {
            // Only a head start; the real request does the same work. Stopping early is fine.
            if (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Query warm-up failed");
            }
        }
    }
}
