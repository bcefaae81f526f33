using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// A window of whole UTC hours ending with the current one: <c>hours = 24</c> at 14:20 covers
/// 15:00 yesterday up to 15:00 today, 24 buckets, the last one still filling.
/// </summary>
public readonly record struct StatsWindow(DateTime From, DateTime To)
{
    public const int MinHours = 1;
    public const int MaxHours = 168;

    public int Hours => (int)((To - From).Ticks / TimeSpan.TicksPerHour);

    public static DateTime HourOf(DateTime at) => new(at.Ticks - at.Ticks % TimeSpan.TicksPerHour, DateTimeKind.Utc);

    public static StatsWindow Last(int hours, DateTime now)
    {
        if (hours is < MinHours or > MaxHours)
        {
            throw new ValidationException("query", "hours", $"Input should be between {MinHours} and {MaxHours}", "range");
        }

        var end = HourOf(now).AddHours(1);
        return new StatsWindow(end.AddHours(-hours), end);
    }

    /// <summary>The window of the same length just before this one, for "change against the previous window".</summary>
    public StatsWindow Previous => new(From - (To - From), From);
}

public sealed record StatsBucket(DateTime BucketStart, long Delivered, long Failed, long Pending);

public sealed record EventTypeStats(string EventType, long Total, long Delivered, long Failed);

public sealed record EndpointStats(Guid EndpointId, long Total, long Delivered, long Failed, long Pending, long Attempts, long FailedAttempts);

/// <summary>Deliveries created in a window (by outcome now) and attempts started in it (count, latency).</summary>
public sealed record DeliveryStats(
    StatsWindow Window,
    long Total,
    long Delivered,
    long Failed,
    long Pending,
    long Attempts,
    double? AvgLatencyMs,
    int? P50LatencyMs,
    int? P95LatencyMs,
    IReadOnlyList<EventTypeStats> ByEventType,
    IReadOnlyList<StatsBucket> Series,
    IReadOnlyList<EndpointStats> ByEndpoint)
{
    /// <summary>Delivered over finished (delivered + failed), in percent with two decimals; null while nothing finished.</summary>
    public double? SuccessRate => SuccessRatePercent(Delivered, Failed);

    public static double? SuccessRatePercent(long delivered, long failed) =>
        delivered + failed == 0 ? null : Math.Round(100.0 * delivered / (delivered + failed), 2);
}

public sealed record AllTimeStats(long Total, long Delivered, long Failed, long Pending, long TotalAttempts, DateTime? FirstDeliveryAt, DateTime? LastDeliveryAt)
{
    public double? SuccessRate => DeliveryStats.SuccessRatePercent(Delivered, Failed);
}

/// <summary>
/// Delivery health read from the hourly rollups (never from the deliveries themselves; the tables
/// are clustered by workspace and hour, see migration RollupsClusteredByWorkspaceAndHour): the
/// dashboard and GET /v1/webhooks/deliveries/stats(/all-time) both ask here.
/// </summary>
public sealed class StatsService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public StatsWindow Window(int hours) => StatsWindow.Last(hours, clock.GetUtcNow().UtcDateTime);

    /// <summary>The window's figures for the workspace, or for one of its endpoints (404 for an endpoint of another workspace).</summary>
    public async Task<DeliveryStats> GetAsync(Caller caller, StatsWindow window, CancellationToken cancellationToken = default, Guid? endpointId = null)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (endpointId is { } endpoint && !await db.WebhookEndpoints.AnyAsync(e => e.Id == endpoint && e.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new Infrastructure.NotFoundException("Endpoint not found.");
        }

        var rollups = db.DeliveryRollups.AsNoTracking()
            .Where(r => r.WorkspaceId == caller.WorkspaceId && r.HourStart >= window.From && r.HourStart < window.To);
        if (endpointId is { } only)
        {
            rollups = rollups.Where(r => r.EndpointId == only);
        }

        // Three small GROUP BYs in SQLite over the window's rollup rows (a week is a few thousand,
        // one contiguous range of the table clustered by workspace and hour), rather than
        // materializing every row.
        var byHour = await rollups.GroupBy(r => r.HourStart)
            .Select(g => new
            {
                Hour = g.Key, Created = g.Sum(r => r.Created), Delivered = g.Sum(r => r.Delivered), Failed = g.Sum(r => r.Failed),
                Pending = g.Sum(r => r.Pending), Attempts = g.Sum(r => r.Attempts), LatencySumMs = g.Sum(r => r.LatencySumMs),
            })
            .ToDictionaryAsync(h => h.Hour, cancellationToken);
        var byType = await rollups.GroupBy(r => r.EventType)
            .Select(g => new EventTypeStats(g.Key, g.Sum(r => r.Created), g.Sum(r => r.Delivered), g.Sum(r => r.Failed)))
            .ToListAsync(cancellationToken);
        var byEndpoint = await rollups.GroupBy(r => r.EndpointId)
            .Select(g => new EndpointStats(g.Key, g.Sum(r => r.Created), g.Sum(r => r.Delivered), g.Sum(r => r.Failed), g.Sum(r => r.Pending),
                g.Sum(r => r.Attempts), g.Sum(r => r.FailedAttempts)))
            .ToListAsync(cancellationToken);
        // The latency histogram from the workspace-wide rollup (at most 18 rows an hour), or the endpoint's.
        var latency = endpointId is { } histogramOf
            ? await db.LatencyRollups.AsNoTracking()
                .Where(r => r.WorkspaceId == caller.WorkspaceId && r.HourStart >= window.From && r.HourStart < window.To && r.EndpointId == histogramOf)
                .GroupBy(r => r.Bucket)
                .Select(g => new { Bucket = g.Key, Count = g.Sum(r => r.Count) })
                .ToDictionaryAsync(g => g.Bucket, g => g.Count, cancellationToken)
            : await db.WorkspaceLatencyRollups.AsNoTracking()
                .Where(r => r.WorkspaceId == caller.WorkspaceId && r.HourStart >= window.From && r.HourStart < window.To)
                .GroupBy(r => r.Bucket)
                .Select(g => new { Bucket = g.Key, Count = g.Sum(r => r.Count) })
                .ToDictionaryAsync(g => g.Bucket, g => g.Count, cancellationToken);

        var series = Enumerable.Range(0, window.Hours)
            .Select(i => window.From.AddHours(i))
            .Select(hour => byHour.TryGetValue(hour, out var h) ? new StatsBucket(hour, h.Delivered, h.Failed, h.Pending) : new StatsBucket(hour, 0, 0, 0))
            .ToList();
        var hours = byHour.Values.ToList();
        var attempts = hours.Sum(h => h.Attempts);
        var latencySum = hours.Sum(h => h.LatencySumMs);
        return new DeliveryStats(
            window,
            hours.Sum(h => h.Created), hours.Sum(h => h.Delivered), hours.Sum(h => h.Failed), hours.Sum(h => h.Pending),
            attempts,
            attempts == 0 ? null : Math.Round((double)latencySum / attempts, 1),
            LatencyBuckets.Percentile(latency, 0.50),
            LatencyBuckets.Percentile(latency, 0.95),
            byType.Where(t => t.Total > 0).OrderByDescending(t => t.Total).ThenBy(t => t.EventType, StringComparer.Ordinal).ToList(),
            series,
            byEndpoint);
    }

    public async Task<AllTimeStats> GetAllTimeAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var totals = await db.DeliveryRollups.AsNoTracking()
            .Where(r => r.WorkspaceId == caller.WorkspaceId)
            .GroupBy(r => r.WorkspaceId)
            .Select(g => new
            {
                Total = g.Sum(r => r.Created), Delivered = g.Sum(r => r.Delivered), Failed = g.Sum(r => r.Failed),
                Pending = g.Sum(r => r.Pending), Attempts = g.Sum(r => r.Attempts),
            })
            .FirstOrDefaultAsync(cancellationToken);
        if (totals is null || totals.Total == 0)
        {
            return new AllTimeStats(0, 0, 0, 0, totals?.Attempts ?? 0, null, null);
        }

        // Two index seeks on (WorkspaceId, CreatedAt).
        var workspace = db.Deliveries.AsNoTracking().Where(d => d.WorkspaceId == caller.WorkspaceId);
        var first = await workspace.OrderBy(d => d.CreatedAt).Select(d => (DateTime?)d.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        var last = await workspace.OrderByDescending(d => d.CreatedAt).Select(d => (DateTime?)d.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        return new AllTimeStats(totals.Total, totals.Delivered, totals.Failed, totals.Pending, totals.Attempts, first, last);
    }

    /// <summary>Deliveries waiting for an attempt now, whenever they were created.</summary>
    public async Task<long> PendingNowAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.DeliveryRollups.AsNoTracking()
            .Where(r => r.WorkspaceId == caller.WorkspaceId && r.Pending != 0)
            .SumAsync(r => r.Pending, cancellationToken);
    }
}
