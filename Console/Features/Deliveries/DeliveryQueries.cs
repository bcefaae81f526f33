using System.Collections.Concurrent;
using System.Linq.Expressions;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>What the inspector, the CSV export, replay and the read APIs filter deliveries by. Every field is optional.</summary>
public sealed record DeliveryFilter
{
    public DeliveryStatus? Status { get; init; }
    public string? EventType { get; init; }
    public Guid? EndpointId { get; init; }
    /// <summary>Only deliveries to one of these endpoints (a portal link limited to some endpoints), as comma-separated ids so the filter stays a value.</summary>
    public string? EndpointIn { get; init; }
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
    /// <summary>The last attempt was answered with this HTTP status.</summary>
    public int? LastResponseStatus { get; init; }
    /// <summary>The last attempt got no answer (an error: timeout, refused, DNS, TLS…).</summary>
    public bool? NoAnswer { get; init; }
    /// <summary>A search inside the payload sent (<see cref="PayloadSearch"/>: <c>$.data.call.status = COMPLETED</c>); needs a time window.</summary>
    public string? Payload { get; init; }
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
public sealed class DeliveryQueries
{
    private static readonly TimeSpan CountLifetime = TimeSpan.FromSeconds(15);
    private readonly IDbContextFactory<AppDbContext> dbFactory;
    private readonly TimeProvider clock;
    private readonly ConcurrentDictionary<(Guid Workspace, DeliveryFilter Filter), (long Count, DateTime At, long Generation)> _counts = new();
    private readonly ConcurrentDictionary<(Guid Workspace, DeliveryFilter Filter, int Cap), (long Count, DateTime At, long Generation)> _cappedCounts = new();

    /// <summary>Bumped by every committed change to a workspace's deliveries: a cached count of an older generation is stale.</summary>
    private readonly ConcurrentDictionary<Guid, long> _generations = new();

    public DeliveryQueries(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, Live.DeliveryNotifier notifier)
    {
        this.dbFactory = dbFactory;
        this.clock = clock;
        notifier.Changed += workspaceId => _generations.AddOrUpdate(workspaceId, 1, (_, generation) => generation + 1);
    }

    /// <summary>The most deliveries a payload search may read (<see cref="PayloadSearch.MaxRows"/>; tests lower it).</summary>
    internal long PayloadRowLimit { get; set; } = PayloadSearch.MaxRows;

    private long Generation(Guid workspaceId) => _generations.GetValueOrDefault(workspaceId);

    /// <summary>
    /// One page, sorted. With <paramref name="countUpTo"/>, the total is counted only that far
    /// (the grid shows "10,000+"): an exact count of a million rows takes a second on a cold cache,
    /// a capped one a few milliseconds. Exact totals are cached per filter for a few seconds.
    /// </summary>
    public async Task<DeliveryPage> PageAsync(Caller caller, DeliveryFilter filter, DeliverySort sort, int offset, int limit, CancellationToken cancellationToken = default, int? countUpTo = null)
    {
        caller.Require(Role.Viewer);
        offset = Math.Max(0, offset);
        limit = Math.Clamp(limit, 1, 500);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var hosts = await PrepareAsync(db, caller.WorkspaceId, filter, cancellationToken);
        var query = Filtered(db, caller.WorkspaceId, filter, hosts);
        var items = hosts is { Count: > 1 } && sort.Field == DeliverySortField.CreatedAt
            ? await MergeHostsAsync(db, caller.WorkspaceId, filter, hosts, sort, offset, limit, cancellationToken)
            : await Sorted(query, sort).Skip(offset).Take(limit).Select(ToRow).ToListAsync(cancellationToken);
        if (items.Count < limit && (offset == 0 || items.Count > 0))
        {
            // A page that is not full ends the result: the total is known without counting (a payload
            // search for a rare value then reads its window once, not twice).
            return new DeliveryPage(items, offset + items.Count);
        }

        if (countUpTo is { } cap && !CountsFromRollups(filter))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var key = (caller.WorkspaceId, filter, cap);
            var generation = Generation(caller.WorkspaceId);
            if (!_cappedCounts.TryGetValue(key, out var counted) || now - counted.At >= CountLifetime || counted.Generation != generation)
            {
                counted = (await query.Select(d => d.Id).Take(cap + 1).LongCountAsync(cancellationToken), now, generation);
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
        var query = Filtered(db, caller.WorkspaceId, filter, await PrepareAsync(db, caller.WorkspaceId, filter, cancellationToken));
        return await CountAsync(db, caller.WorkspaceId, filter, query, cancellationToken);
    }

    /// <summary>Counts exactly, now (used before a bulk action, where a stale figure would mislead).</summary>
    public async Task<long> CountNowAsync(Caller caller, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Filtered(db, caller.WorkspaceId, filter, await PrepareAsync(db, caller.WorkspaceId, filter, cancellationToken)).LongCountAsync(cancellationToken);
    }

    /// <summary>Every matching row, newest first, streamed (the CSV export).</summary>
    public async IAsyncEnumerable<DeliveryRow> StreamAsync(Caller caller, DeliveryFilter filter, DeliverySort sort, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = Filtered(db, caller.WorkspaceId, filter, await PrepareAsync(db, caller.WorkspaceId, filter, cancellationToken));
        await foreach (var row in Sorted(query, sort).Select(ToRow).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>Ids of matching deliveries (replay), newest first.</summary>
    public async Task<IReadOnlyList<Guid>> IdsAsync(Guid workspaceId, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Filtered(db, workspaceId, filter, await PrepareAsync(db, workspaceId, filter, cancellationToken))
            .OrderByDescending(d => d.CreatedAt).Select(d => d.Id).ToListAsync(cancellationToken);
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
        // The rollups answer exactly and cheaply at every moment: never a cached figure.
        if (CountsFromRollups(filter))
        {
            return await CountFromRollupsAsync(db, workspaceId, filter, cancellationToken);
        }

        // Other filters count rows; a count is reused while nothing in the workspace has changed
        // since (a resend or a finished attempt makes it stale at once), for at most a few seconds.
        var now = clock.GetUtcNow().UtcDateTime;
        var key = (workspaceId, filter);
        var generation = Generation(workspaceId);
        if (_counts.TryGetValue(key, out var cached) && now - cached.At < CountLifetime && cached.Generation == generation)
        {
            return cached.Count;
        }

        var count = await query.LongCountAsync(cancellationToken);
        if (_counts.Count > 1000)
        {
            _counts.Clear();
        }

        _counts[key] = (count, now, generation);
        return count;
    }

    /// <summary>
    /// What a filter needs before its query is built: the hosts a host search matches, and for a
    /// payload search the check that its cost is bounded (a window of at most 7 days holding at most
    /// <see cref="PayloadSearch.MaxRows"/> deliveries, counted from the hourly rollups).
    /// </summary>
    private async Task<IReadOnlyList<string>?> PrepareAsync(AppDbContext db, Guid workspaceId, DeliveryFilter filter, CancellationToken cancellationToken)
    {
        if (filter.Payload is { } payload)
        {
            PayloadSearch.Parse(payload);
            var now = clock.GetUtcNow().UtcDateTime;
            if (filter.From is not { } from || (filter.To ?? now) - from > PayloadSearch.MaxWindow + TimeSpan.FromHours(1))
            {
                throw new ValidationException("query", "payload", "A payload search needs a time range of at most 7 days: choose one (the last 24 hours or 7 days, or custom dates).", "value_error");
            }

            // The rows it may read: the deliveries of the window under the filters the rollups count.
            await using var countDb = await dbFactory.CreateDbContextAsync(cancellationToken);
            var candidates = await CountFromRollupsAsync(countDb, workspaceId,
                new DeliveryFilter { Status = filter.Status, EventType = filter.EventType, EndpointId = filter.EndpointId, Scope = filter.Scope, From = filter.From, To = filter.To },
                cancellationToken);
            if (candidates > PayloadRowLimit)
            {
                throw new ValidationException("query", "payload",
                    $"This payload search would read {candidates:N0} deliveries; it reads at most {PayloadRowLimit:N0}. Choose a shorter time range, or filter by endpoint, event type or status.", "value_error");
            }
        }

        return await HostsAsync(db, filter, cancellationToken);
    }

    private static IQueryable<Delivery> Filtered(AppDbContext db, Guid workspaceId, DeliveryFilter filter, IReadOnlyList<string>? hosts = null)
    {
        var query = (filter.Payload is { } payload ? PayloadSearch.Parse(payload).Apply(db) : db.Deliveries)
            .AsNoTracking().Where(d => d.WorkspaceId == workspaceId);
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

        if (filter.LastResponseStatus is { } answered)
        {
            query = query.Where(d => d.LastResponseStatus == answered);
        }

        if (filter.NoAnswer == true)
        {
            query = query.Where(d => d.LastResponseStatus == null && d.LastError != null);
        }

        if (filter.EndpointIn is { } endpointIn)
        {
            var ids = endpointIn.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse).ToList();
            query = query.Where(d => ids.Contains(d.EndpointId));
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

        return Search(query, filter.Search?.Trim(), hosts);
    }

    private static IQueryable<Delivery> Search(IQueryable<Delivery> query, string? search, IReadOnlyList<string>? hosts)
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

        // A host or its beginning: the hosts it matches were looked up first (HostsAsync), each one
        // is an equality on the (host, workspace, created) index.
        hosts ??= [];
        return hosts.Count == 1 ? query.Where(d => d.TargetHost == hosts[0]) : query.Where(d => hosts.Contains(d.TargetHost));
    }

    /// <summary>Whether the search is a host (or its beginning) rather than an id.</summary>
    private static bool IsHostSearch(string? search) =>
        !string.IsNullOrWhiteSpace(search) && !Guid.TryParse(search.Trim(), out _)
        && !search.Trim().StartsWith("evt_", StringComparison.OrdinalIgnoreCase) && !search.Trim().StartsWith("call_", StringComparison.OrdinalIgnoreCase);

    private const int MaxHosts = 50;

    /// <summary>
    /// The distinct target hosts that begin with the search, by skipping through the host index
    /// (one seek per host, not one step per row); null when the search is not a host search.
    /// </summary>
    private static async Task<IReadOnlyList<string>?> HostsAsync(AppDbContext db, DeliveryFilter filter, CancellationToken cancellationToken)
    {
        if (!IsHostSearch(filter.Search))
        {
            return null;
        }

        var low = filter.Search!.Trim().ToLowerInvariant();
        var high = low + '\uffff';
        return await db.Database.SqlQuery<string>($"""
            WITH RECURSIVE hosts(host) AS (
                SELECT MIN("TargetHost") FROM deliveries WHERE "TargetHost" >= {low} AND "TargetHost" < {high}
                UNION ALL
                SELECT (SELECT MIN("TargetHost") FROM deliveries WHERE "TargetHost" > hosts.host AND "TargetHost" < {high})
                FROM hosts WHERE hosts.host IS NOT NULL)
            SELECT host AS "Value" FROM hosts WHERE host IS NOT NULL LIMIT {MaxHosts}
            """).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// A page over several hosts in time order: each host's rows come out of its index already
    /// sorted, so take the first offset+limit of each and merge, instead of sorting every match.
    /// </summary>
    private static async Task<List<DeliveryRow>> MergeHostsAsync(AppDbContext db, Guid workspaceId, DeliveryFilter filter, IReadOnlyList<string> hosts, DeliverySort sort, int offset, int limit, CancellationToken cancellationToken)
    {
        var rows = new List<DeliveryRow>();
        foreach (var host in hosts)
        {
            rows.AddRange(await Sorted(Filtered(db, workspaceId, filter, [host]), sort).Take(offset + limit).Select(ToRow).ToListAsync(cancellationToken));
        }

        var ordered = sort.Descending
            ? rows.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id.ToString("D"), StringComparer.Ordinal)
            : rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id.ToString("D"), StringComparer.Ordinal);
        return ordered.Skip(offset).Take(limit).ToList();
    }

    /// <summary>Filters the hourly rollups can count exactly: status, event type, endpoint, scope and time.</summary>
    private static bool CountsFromRollups(DeliveryFilter filter) =>
        filter.Channel is null && filter.ApplicationId is null && filter.CampaignId is null && filter.EndpointIn is null
        && filter.LastResponseStatus is null && filter.NoAnswer is null && string.IsNullOrWhiteSpace(filter.Search) && filter.Payload is null;

    /// <summary>
    /// Counts from the hourly rollups: whole hours from the rollups, the partial hours at either end
    /// of the range from the rows (a few thousand at most), read in one snapshot so the sum is exact.
    /// </summary>
    private static async Task<long> CountFromRollupsAsync(AppDbContext db, Guid workspaceId, DeliveryFilter filter, CancellationToken cancellationToken)
    {
        DateTime? firstWholeHour = filter.From is { } from ? CeilingHour(from) : null;
        DateTime? endOfWholeHours = filter.To is { } to ? StatsWindow.HourOf(to) : null;
        if (firstWholeHour is { } first && endOfWholeHours is { } end && first >= end)
        {
            // Within one hour: the rows are few.
            return await Filtered(db, workspaceId, filter).LongCountAsync(cancellationToken);
        }

        // One snapshot for all the sums: on SQLite a deferred (read) transaction, which does not take
        // the write lock; on PostgreSQL a repeatable-read one.
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var snapshot = db.IsPostgres()
            ? await db.Database.GetDbConnection().BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken)
            : ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        await db.Database.UseTransactionAsync(snapshot, cancellationToken);
        var rollups = db.DeliveryRollups.AsNoTracking().Where(r => r.WorkspaceId == workspaceId);
        if (firstWholeHour is { } f)
        {
            rollups = rollups.Where(r => r.HourStart >= f);
        }

        if (endOfWholeHours is { } e)
        {
            rollups = rollups.Where(r => r.HourStart < e);
        }

        if (!string.IsNullOrEmpty(filter.EventType))
        {
            rollups = rollups.Where(r => r.EventType == filter.EventType);
        }

        if (filter.EndpointId is { } endpointId)
        {
            rollups = rollups.Where(r => r.EndpointId == endpointId);
        }

        if (filter.Scope is { } scope)
        {
            var ofScope = db.WebhookEndpoints.Where(x => x.WorkspaceId == workspaceId && x.Scope == scope).Select(x => x.Id);
            rollups = rollups.Where(r => ofScope.Contains(r.EndpointId));
        }

        var count = filter.Status switch
        {
            DeliveryStatus.Pending => await rollups.SumAsync(r => r.Pending, cancellationToken),
            DeliveryStatus.Delivered => await rollups.SumAsync(r => r.Delivered, cancellationToken),
            DeliveryStatus.Failed => await rollups.SumAsync(r => r.Failed, cancellationToken),
            _ => await rollups.SumAsync(r => r.Created, cancellationToken),
        };
        if (filter.From is { } start && firstWholeHour is { } head && head != start)
        {
            count += await Filtered(db, workspaceId, filter with { To = filter.To is { } t && t < head ? t : head }).LongCountAsync(cancellationToken);
        }

        if (filter.To is { } stop && endOfWholeHours is { } tail && tail != stop)
        {
            count += await Filtered(db, workspaceId, filter with { From = filter.From is { } s && s > tail ? s : tail }).LongCountAsync(cancellationToken);
        }

        return count;
    }

    private static DateTime CeilingHour(DateTime at)
    {
        var hour = StatsWindow.HourOf(at);
        return hour == at ? hour : hour.AddHours(1);
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
        builder.Services.AddSingleton<SignatureDebugger>();
        builder.Services.AddSingleton<FailureClusterService>();
        builder.Services.AddSingleton<SavedViewService>();
        builder.Services.AddSingleton<Live.DeliveryNotifier>();
        return builder;
    }
}
