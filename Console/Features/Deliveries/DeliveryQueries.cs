using System.Collections.Concurrent;
using System.Linq.Expressions;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>What the inspector, the CSV export, replay and the read APIs filter deliveries by. Every field is optional.</summary>
public sealed record DeliveryFilter
{
    public DeliveryStatus? Status { get; init; }
    public string? EventType { get; init; }
    public Guid? EndpointId { get; init; }
    public EndpointScope? Scope { get; init; }
    public string? Channel { get; init; }
    public Guid? ApplicationId { get; init; }
    public Guid? CampaignId { get; init; }
    /// <summary>Created at or after (UTC).</summary>
    public DateTime? From { get; init; }
    /// <summary>Created before (UTC).</summary>
    public DateTime? To { get; init; }
    /// <summary>A delivery id, an event id (<c>evt_…</c>), a call id (<c>call_…</c>) or a target host (or its beginning).</summary>
    public string? Search { get; init; }
}

public enum DeliverySortField
{
    CreatedAt,
    LastAttemptAt,
    Attempts,
    Status,
    EventType,
}

public sealed record DeliverySort(DeliverySortField Field = DeliverySortField.CreatedAt, bool Descending = true)
{
    public static readonly DeliverySort Newest = new();
}

/// <summary>One grid or list row: the delivery without its payload.</summary>
public sealed record DeliveryRow(
    Guid Id,
    string EventId,
    string EventType,
    string Channel,
    DeliveryStatus Status,
    Guid EndpointId,
    EndpointScope Scope,
    Guid? ApplicationId,
    Guid? CampaignId,
    string TargetUrl,
    string TargetHost,
    string? CallId,
    int Attempts,
    int? LastResponseStatus,
    string? LastError,
    int? LastDurationMs,
    DateTime? LastAttemptAt,
    DateTime? NextAttemptAt,
    DateTime CreatedAt,
    DateTime? DeliveredAt);

/// <summary>A page of rows; <see cref="Total"/> is exact unless <see cref="TotalIsAtLeast"/> (the count stopped at its limit).</summary>
public sealed record DeliveryPage(IReadOnlyList<DeliveryRow> Items, long Total, bool TotalIsAtLeast = false);

public sealed record AttemptView(
    Guid Id,
    int Number,
    AttemptTrigger Trigger,
    string RequestUrl,
    string RequestHeadersJson,
    string RequestBody,
    int? ResponseStatus,
    string? ResponseHeadersJson,
    string? ResponseBody,
    long? ResponseBodySize,
    int DurationMs,
    AttemptErrorClass ErrorClass,
    string? Error,
    DateTime StartedAt,
    DateTime CompletedAt)
{
    public bool Succeeded => ResponseStatus is >= 200 and < 300;
}

public sealed record DeliveryDetail(DeliveryRow Delivery, string PayloadJson, string EndpointUrl, string? EndpointName, IReadOnlyList<AttemptView> Attempts)
{
    public AttemptView? Latest => Attempts.Count == 0 ? null : Attempts[^1];
}

/// <summary>A campaign webhook log row: one attempt, with its delivery's event type.</summary>
public sealed record AttemptLogRow(Guid Id, string EventType, int Number, int? ResponseStatus, int DurationMs, DateTime StartedAt, DateTime CompletedAt)
{
    public bool Succeeded => ResponseStatus is >= 200 and < 300;
}

/// <summary>
/// Reads deliveries of the caller's workspace: one service for the inspector page, the CSV export
/// and every read API. Filters map onto the (workspace, status|event type|created) and endpoint
/// indexes; totals are counted once per filter and kept for a few seconds, so paging through a
/// large result does not count a million rows on every page change.
/// </summary>
public sealed class DeliveryQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    private static readonly TimeSpan CountLifetime = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<(Guid Workspace, DeliveryFilter Filter), (long Count, DateTime At)> _counts = new();
    private readonly ConcurrentDictionary<(Guid Workspace, DeliveryFilter Filter, int Cap), (long Count, DateTime At)> _cappedCounts = new();

    /// <summary>
    /// One page, sorted. With <paramref name="countUpTo"/>, the total is counted only that far
    /// (the grid shows "10,000+"): an exact count of a million rows takes a second on a cold cache,
    /// a capped one a few milliseconds. Exact totals are cached per filter for a few seconds.
    /// </summary>
    public async Task<DeliveryPage> PageAsync(Caller caller, DeliveryFilter filter, DeliverySort sort, int offset, int limit, CancellationToken cancellationToken = default, int? countUpTo = null)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = Filtered(db, caller.WorkspaceId, filter);
        var items = await Sorted(query, sort).Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 1, 500)).Select(ToRow).ToListAsync(cancellationToken);
        if (countUpTo is { } cap && !_counts.ContainsKey((caller.WorkspaceId, filter)))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var key = (caller.WorkspaceId, filter, cap);
            if (!_cappedCounts.TryGetValue(key, out var counted) || now - counted.At >= CountLifetime)
            {
                counted = (await query.Select(d => d.Id).Take(cap + 1).LongCountAsync(cancellationToken), now);
                if (_cappedCounts.Count > 1000)
                {
                    _cappedCounts.Clear();
                }

                _cappedCounts[key] = counted;
            }

            return counted.Count > cap
                ? new DeliveryPage(items, Math.Max(cap, offset + items.Count), TotalIsAtLeast: true)
                : new DeliveryPage(items, Math.Max(counted.Count, offset + items.Count));
        }

        var total = await CountAsync(db, caller.WorkspaceId, filter, query, cancellationToken);
        return new DeliveryPage(items, Math.Max(total, offset + items.Count));
    }

    /// <summary>Counts matching deliveries, reusing a count made in the last few seconds for the same filter.</summary>
    public async Task<long> CountAsync(Caller caller, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await CountAsync(db, caller.WorkspaceId, filter, Filtered(db, caller.WorkspaceId, filter), cancellationToken);
    }

    /// <summary>Counts exactly, now (used before a bulk action, where a stale figure would mislead).</summary>
    public async Task<long> CountNowAsync(Caller caller, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Filtered(db, caller.WorkspaceId, filter).LongCountAsync(cancellationToken);
    }

    /// <summary>Every matching row, newest first, streamed (the CSV export).</summary>
    public async IAsyncEnumerable<DeliveryRow> StreamAsync(Caller caller, DeliveryFilter filter, DeliverySort sort, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await foreach (var row in Sorted(Filtered(db, caller.WorkspaceId, filter), sort).Select(ToRow).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>Ids of matching deliveries (replay), newest first.</summary>
    public async Task<IReadOnlyList<Guid>> IdsAsync(Guid workspaceId, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Filtered(db, workspaceId, filter).OrderByDescending(d => d.CreatedAt).Select(d => d.Id).ToListAsync(cancellationToken);
    }

    /// <summary>The delivery with its payload and every attempt, oldest first; 404 outside the caller's workspace.</summary>
    public async Task<DeliveryDetail> GetAsync(Caller caller, Guid deliveryId, Guid? applicationId = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await db.Deliveries.AsNoTracking()
            .Where(d => d.Id == deliveryId && d.WorkspaceId == caller.WorkspaceId && (applicationId == null || d.ApplicationId == applicationId))
            .Select(d => new { Row = new DeliveryRow(d.Id, d.EventId, d.EventType, d.Channel, d.Status, d.EndpointId, d.EndpointScope, d.ApplicationId, d.CampaignId, d.TargetUrl, d.TargetHost, d.CallId, d.Attempts, d.LastResponseStatus, d.LastError, d.LastDurationMs, d.LastAttemptAt, d.NextAttemptAt, d.CreatedAt, d.DeliveredAt), d.PayloadJson })
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("Delivery not found.");
        var attempts = await db.DeliveryAttempts.AsNoTracking()
            .Where(a => a.DeliveryId == deliveryId)
            .OrderBy(a => a.Number)
            .Select(a => new AttemptView(a.Id, a.Number, a.Trigger, a.RequestUrl, a.RequestHeadersJson, a.RequestBody, a.ResponseStatus, a.ResponseHeadersJson, a.ResponseBody, a.ResponseBodySize, a.DurationMs, a.ErrorClass, a.Error, a.StartedAt, a.CompletedAt))
            .ToListAsync(cancellationToken);
        var endpoint = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Id == found.Row.EndpointId).Select(e => new { e.Url, e.Scope, e.ApplicationId, e.CampaignId }).FirstOrDefaultAsync(cancellationToken);
        string? endpointName = endpoint?.Scope switch
        {
            EndpointScope.Application => await db.Applications.Where(a => a.Id == endpoint.ApplicationId).Select(a => a.Name).FirstOrDefaultAsync(cancellationToken),
            EndpointScope.Campaign => await db.Campaigns.Where(c => c.Id == endpoint.CampaignId).Select(c => c.Name).FirstOrDefaultAsync(cancellationToken),
            _ => null,
        };
        return new DeliveryDetail(found.Row, found.PayloadJson, endpoint?.Url ?? found.Row.TargetUrl, endpointName, attempts);
    }

    /// <summary>The latest attempt's response body for each of <paramref name="deliveryIds"/> (the account API's list).</summary>
    public async Task<IReadOnlyDictionary<Guid, string?>> LatestResponseBodiesAsync(IReadOnlyCollection<Guid> deliveryIds, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // One query: a correlated subquery per row on the (delivery, number) index, not a round trip per row.
        return await db.Deliveries.AsNoTracking()
            .Where(d => deliveryIds.Contains(d.Id))
            .Select(d => new { d.Id, Body = db.DeliveryAttempts.Where(a => a.DeliveryId == d.Id).OrderByDescending(a => a.Number).Select(a => a.ResponseBody).FirstOrDefault() })
            .ToDictionaryAsync(x => x.Id, x => x.Body, cancellationToken);
    }

    /// <summary>One row per attempt to <paramref name="endpointId"/>, newest first (campaign webhook logs).</summary>
    public async Task<(IReadOnlyList<AttemptLogRow> Items, long Total)> AttemptLogAsync(Caller caller, Guid endpointId, int offset, int limit, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var attempts = db.DeliveryAttempts.AsNoTracking().Where(a => a.EndpointId == endpointId && a.WorkspaceId == caller.WorkspaceId);
        var items = await attempts
            .Join(db.Deliveries, a => a.DeliveryId, d => d.Id, (a, d) => new { a, d.EventType })
            .OrderByDescending(x => x.a.StartedAt).ThenByDescending(x => x.a.Id)
            .Skip(offset).Take(limit)
            .Select(x => new AttemptLogRow(x.a.Id, x.EventType, x.a.Number, x.a.ResponseStatus, x.a.DurationMs, x.a.StartedAt, x.a.CompletedAt))
            .ToListAsync(cancellationToken);
        var total = await attempts.LongCountAsync(cancellationToken);
        return (items, total);
    }

    /// <summary>Event types seen in the workspace (the filter's choices).</summary>
    public async Task<IReadOnlyList<string>> EventTypesAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Distinct over the (workspace, event type, created) index: a skip-scan, not a table scan.
        return await db.Deliveries.Where(d => d.WorkspaceId == caller.WorkspaceId).Select(d => d.EventType).Distinct().OrderBy(t => t).Take(200).ToListAsync(cancellationToken);
    }

    private async Task<long> CountAsync(AppDbContext db, Guid workspaceId, DeliveryFilter filter, IQueryable<Delivery> query, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var key = (workspaceId, filter);
        if (_counts.TryGetValue(key, out var cached) && now - cached.At < CountLifetime)
        {
            return cached.Count;
        }

        var count = await query.LongCountAsync(cancellationToken);
        if (_counts.Count > 1000)
        {
            _counts.Clear();
        }

        _counts[key] = (count, now);
        return count;
    }

    private static IQueryable<Delivery> Filtered(AppDbContext db, Guid workspaceId, DeliveryFilter filter)
    {
        var query = db.Deliveries.AsNoTracking().Where(d => d.WorkspaceId == workspaceId);
        if (filter.Status is { } status)
        {
            query = query.Where(d => d.Status == status);
        }

        if (!string.IsNullOrEmpty(filter.EventType))
        {
            query = query.Where(d => d.EventType == filter.EventType);
        }

        if (filter.EndpointId is { } endpointId)
        {
            query = query.Where(d => d.EndpointId == endpointId);
        }

        if (filter.Scope is { } scope)
        {
            query = query.Where(d => d.EndpointScope == scope);
        }

        if (!string.IsNullOrEmpty(filter.Channel))
        {
            query = query.Where(d => d.Channel == filter.Channel);
        }

        if (filter.ApplicationId is { } applicationId)
        {
            query = query.Where(d => d.ApplicationId == applicationId);
        }

        if (filter.CampaignId is { } campaignId)
        {
            query = query.Where(d => d.CampaignId == campaignId);
        }

        if (filter.From is { } from)
        {
            query = query.Where(d => d.CreatedAt >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(d => d.CreatedAt < to);
        }

        return Search(query, filter.Search?.Trim());
    }

    private static IQueryable<Delivery> Search(IQueryable<Delivery> query, string? search)
    {
        if (string.IsNullOrEmpty(search))
        {
            return query;
        }

        if (Guid.TryParse(search, out var id))
        {
            return query.Where(d => d.Id == id);
        }

        if (search.StartsWith("evt_", StringComparison.OrdinalIgnoreCase))
        {
            var eventId = search.ToLowerInvariant();
            return query.Where(d => d.EventId == eventId);
        }

        if (search.StartsWith("call_", StringComparison.OrdinalIgnoreCase))
        {
            var callId = search.ToLowerInvariant();
            return query.Where(d => d.CallId == callId);
        }

        // A host or its beginning, as a range on the (workspace, host, created) index.
        var low = search.ToLowerInvariant();
        var high = low + '\uffff';
        return query.Where(d => string.Compare(d.TargetHost, low) >= 0 && string.Compare(d.TargetHost, high) < 0);
    }

    private static IQueryable<Delivery> Sorted(IQueryable<Delivery> query, DeliverySort sort) => (sort.Field, sort.Descending) switch
    {
        (DeliverySortField.LastAttemptAt, true) => query.OrderByDescending(d => d.LastAttemptAt).ThenByDescending(d => d.Id),
        (DeliverySortField.LastAttemptAt, false) => query.OrderBy(d => d.LastAttemptAt).ThenBy(d => d.Id),
        (DeliverySortField.Attempts, true) => query.OrderByDescending(d => d.Attempts).ThenByDescending(d => d.CreatedAt),
        (DeliverySortField.Attempts, false) => query.OrderBy(d => d.Attempts).ThenByDescending(d => d.CreatedAt),
        (DeliverySortField.Status, true) => query.OrderByDescending(d => d.Status).ThenByDescending(d => d.CreatedAt),
        (DeliverySortField.Status, false) => query.OrderBy(d => d.Status).ThenByDescending(d => d.CreatedAt),
        (DeliverySortField.EventType, true) => query.OrderByDescending(d => d.EventType).ThenByDescending(d => d.CreatedAt),
        (DeliverySortField.EventType, false) => query.OrderBy(d => d.EventType).ThenByDescending(d => d.CreatedAt),
        (_, false) => query.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id),
        _ => query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id),
    };

    private static readonly Expression<Func<Delivery, DeliveryRow>> ToRow = d => new DeliveryRow(
        d.Id, d.EventId, d.EventType, d.Channel, d.Status, d.EndpointId, d.EndpointScope, d.ApplicationId, d.CampaignId, d.TargetUrl, d.TargetHost, d.CallId,
        d.Attempts, d.LastResponseStatus, d.LastError, d.LastDurationMs, d.LastAttemptAt, d.NextAttemptAt, d.CreatedAt, d.DeliveredAt);
}

public static class DeliveryStatusText
{
    public static string ToWire(this DeliveryStatus status) => status switch
    {
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.Failed => "failed",
        _ => "pending",
    };

    public static bool TryParse(string? value, out DeliveryStatus status)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "pending": status = DeliveryStatus.Pending; return true;
            case "delivered": status = DeliveryStatus.Delivered; return true;
            case "failed": status = DeliveryStatus.Failed; return true;
            default: status = default; return false;
        }
    }
}

public static class DeliveriesExtensions
{
    public static IHostApplicationBuilder AddDeliveries(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeliveryQueries>();
        builder.Services.AddSingleton<Live.DeliveryNotifier>();
        return builder;
    }
}
