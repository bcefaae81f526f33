using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>One window of an endpoint's scorecard: the same figures the stats API gives for it.</summary>
public sealed record ScorecardWindow(int Hours, long Delivered, long Failed, long Pending, double? SuccessRate, int? P50LatencyMs, int? P95LatencyMs);

/// <summary>How far an endpoint is from being disabled by the engine.</summary>
public sealed record DisableOutlook(bool AtRisk, long FailedInWindow, int Threshold, TimeSpan Window, string Text);

/// <summary>An endpoint's page: who it belongs to, how it is doing over 1 h / 24 h / 7 d, and how close it is to auto-disable.</summary>
public sealed record EndpointScorecard(EndpointOverview Endpoint, IReadOnlyList<ScorecardWindow> Windows, DisableOutlook Outlook, long FailedToReplay);

/// <summary>
/// The endpoint page's figures: each window from <see cref="StatsService"/> filtered to the
/// endpoint (so they agree with <c>GET /v1/webhooks/deliveries/stats?endpointId=</c>), and the
/// auto-disable outlook by the engine's own rule (no delivered delivery created in the window and
/// at least the configured number failed).
/// </summary>
public sealed class EndpointScorecardService(
    IDbContextFactory<AppDbContext> dbFactory,
    EndpointService endpoints,
    StatsService stats,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock)
{
    public static readonly int[] WindowHours = [1, 24, 168];

    public async Task<EndpointScorecard> GetAsync(Caller caller, Guid endpointId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var endpoint = (await endpoints.OverviewAsync(caller, cancellationToken: cancellationToken)).FirstOrDefault(o => o.Endpoint.Id == endpointId)
            ?? throw new NotFoundException("Endpoint not found.");
        var windows = new List<ScorecardWindow>();
        foreach (var hours in WindowHours)
        {
            var s = await stats.GetAsync(caller, stats.Window(hours), cancellationToken, endpointId);
            windows.Add(new ScorecardWindow(hours, s.Delivered, s.Failed, s.Pending, s.SuccessRate, s.P50LatencyMs, s.P95LatencyMs));
        }

        var settings = options.CurrentValue;
        var since = clock.GetUtcNow().UtcDateTime - settings.DisableWindow;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var recent = db.Deliveries.AsNoTracking().Where(d => d.EndpointId == endpointId && d.WorkspaceId == caller.WorkspaceId && d.CreatedAt >= since);
        var delivered = await recent.AnyAsync(d => d.Status == DeliveryStatus.Delivered, cancellationToken);
        var failed = await recent.LongCountAsync(d => d.Status == DeliveryStatus.Failed, cancellationToken);
        var failedToReplay = await db.Deliveries.AsNoTracking().LongCountAsync(d => d.EndpointId == endpointId && d.WorkspaceId == caller.WorkspaceId && d.Status == DeliveryStatus.Failed, cancellationToken);
        var windowText = $"{settings.DisableWindow.TotalHours:0.#} h";
        var outlook = endpoint.Endpoint.Status == EndpointStatus.Disabled
            ? new DisableOutlook(true, failed, settings.DisableAfterFailures, settings.DisableWindow, $"Disabled{(endpoint.Endpoint.DisabledReason is { } reason ? $": {reason}" : "")}. Enable it to deliver again.")
            : delivered
                ? new DisableOutlook(false, failed, settings.DisableAfterFailures, settings.DisableWindow, $"Not at risk: a delivery created in the last {windowText} was delivered.")
                : failed == 0
                    ? new DisableOutlook(false, 0, settings.DisableAfterFailures, settings.DisableWindow, $"Not at risk: nothing failed in the last {windowText}.")
                    : new DisableOutlook(true, failed, settings.DisableAfterFailures, settings.DisableWindow,
                        $"Disables after {Math.Max(1, settings.DisableAfterFailures - failed)} more failed deliveries: none of the last {windowText} was delivered and {failed} failed (at {settings.DisableAfterFailures} it is disabled).");
        return new EndpointScorecard(endpoint, windows, outlook, failedToReplay);
    }
}
