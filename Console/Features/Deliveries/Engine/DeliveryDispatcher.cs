using System.Data.Common;
using System.Globalization;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>What the sender needs of one claimed delivery, carried by the claim so nothing is read again per delivery.</summary>
public sealed record DeliveryClaim(
    Guid Id, Guid WorkspaceId, string EventId, Guid EndpointId, string PayloadJson, int Attempts,
    string EndpointUrl, string SecretProtected, EndpointStatus EndpointStatus, string? DisabledReason, bool EndpointDeleted, string LeaseOwner);

/// <summary>How due deliveries are claimed and how the dispatcher is woken: SQLite in process now; PostgreSQL adds SKIP LOCKED and NOTIFY behind it.</summary>
public interface IDeliveryQueue
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries, oldest due first, at most
    /// <paramref name="perEndpoint"/> of one endpoint and none of <paramref name="skipEndpoints"/>,
    /// with a lease for <paramref name="owner"/>.
    /// </summary>
    Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, int perEndpoint, IReadOnlyCollection<Guid> skipEndpoints, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>When the next pending delivery without a lease is due (null when none).</summary>
    Task<DateTime?> NextDueAsync(CancellationToken cancellationToken);

    /// <summary>Releases the leases of earlier runs of this node (their process is gone); returns how many.</summary>
    Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken);
}

/// <summary>
/// Wakes the dispatcher when deliveries become due (a publish or resend committed). In process on
/// SQLite; across nodes the PostgreSQL provider adds LISTEN/NOTIFY behind the same two calls.
/// </summary>
public interface IDeliveryWakeup
{
    void Wake();

    /// <summary>Waits until woken or <paramref name="timeout"/> passes.</summary>
    Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

public sealed class InProcessWakeup : IDeliveryWakeup, IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Wake()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _signal.WaitAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose() => _signal.Dispose();
}

/// <summary>
/// The database is the queue: claims due rows in batches through the one writer, in one
/// conditional <c>UPDATE … RETURNING</c> with the endpoint's URL and secret beside them.
/// </summary>
public sealed class SqliteDeliveryQueue(DatabaseWriter writer, IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock) : IDeliveryQueue
{
    /// <summary>How many of the oldest due rows one claim looks at to pick its batch.</summary>
    private const int Scan = 2000;

    public Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, int perEndpoint, IReadOnlyCollection<Guid> skipEndpoints, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync<IReadOnlyList<DeliveryClaim>>(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime.Ticks;
            var connection = db.Database.GetDbConnection();
            var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            await using var claim = connection.CreateCommand();
            claim.Transaction = transaction;
            var skip = skipEndpoints.Count == 0 ? "" : $" AND \"EndpointId\" NOT IN ({string.Join(",", skipEndpoints.Select((_, i) => "$s" + i))})";
            claim.CommandText = $"""
                UPDATE deliveries SET "LeaseOwner" = $owner, "LeaseUntil" = $until
                WHERE "Id" IN (
                    SELECT "Id" FROM (
                        SELECT "Id", "NextAttemptAt", ROW_NUMBER() OVER (PARTITION BY "EndpointId" ORDER BY "NextAttemptAt") AS lane
                        FROM (
                            SELECT "Id", "EndpointId", "NextAttemptAt" FROM deliveries
                            WHERE "Status" = 0 AND "NextAttemptAt" <= $now AND ("LeaseUntil" IS NULL OR "LeaseUntil" < $now){skip}
                            ORDER BY "NextAttemptAt" LIMIT $scan))
                    WHERE lane <= $perEndpoint
                    ORDER BY "NextAttemptAt" LIMIT $limit)
                RETURNING "Id", "WorkspaceId", "EventId", "EndpointId", "PayloadJson", "Attempts"
                """;
            Add(claim, "$owner", owner);
            Add(claim, "$until", now + lease.Ticks);
            Add(claim, "$now", now);
            Add(claim, "$limit", limit);
            Add(claim, "$perEndpoint", perEndpoint);
            Add(claim, "$scan", Scan);
            var i = 0;
            foreach (var endpoint in skipEndpoints)
            {
                Add(claim, "$s" + i++, endpoint.ToString("D"));
            }

            var rows = new List<(Guid Id, Guid Workspace, string EventId, Guid Endpoint, string Payload, int Attempts)>();
            await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2), Guid.Parse(reader.GetString(3)), reader.GetString(4), reader.GetInt32(5)));
                }
            }

            if (rows.Count == 0)
            {
                return [];
            }

            var endpointIds = rows.Select(r => r.Endpoint).Distinct().ToList();
            var endpoints = await db.WebhookEndpoints.AsNoTracking()
                .Where(e => endpointIds.Contains(e.Id))
                .Select(e => new { e.Id, e.Url, e.SecretProtected, e.Status, e.DisabledReason, e.DeletedAt })
                .ToDictionaryAsync(e => e.Id, cancellationToken);
            return rows.Select(r =>
            {
                var e = endpoints[r.Endpoint];
                return new DeliveryClaim(r.Id, r.Workspace, r.EventId, r.Endpoint, r.Payload, r.Attempts, e.Url, e.SecretProtected, e.Status, e.DisabledReason, e.DeletedAt is not null, owner);
            }).ToList();
        });

    public async Task<DateTime?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.LeaseUntil == null && d.NextAttemptAt != null)
            .MinAsync(d => d.NextAttemptAt, cancellationToken);
    }

    public Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken) =>
        writer.WriteAsync(db => db.Deliveries
            .Where(d => d.Status == DeliveryStatus.Pending && d.LeaseOwner != null && d.LeaseOwner.StartsWith(nodePrefix) && d.LeaseOwner != currentOwner)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseOwner, (string?)null).SetProperty(d => d.LeaseUntil, (DateTime?)null), cancellationToken));

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>
/// Sends due deliveries. One loop claims batches from <see cref="IDeliveryQueue"/> (woken at once
/// when a publish or resend commits, and at the next due time for retries), never more than there
/// are free places: in all (<see cref="DeliveryOptions.MaxInFlight"/>) and in each endpoint's lane
/// (<see cref="DeliveryOptions.MaxConcurrencyPerEndpoint"/>). Endpoints whose lane is full are left
/// out of the claim, so a slow endpoint holds only its own lane and the others keep their pace.
/// Each claimed delivery is sent and recorded by <see cref="DeliveryProcessor"/>.
/// </summary>
public sealed class DeliveryDispatcher(
    IDeliveryQueue queue,
    IDeliveryWakeup wakeup,
    DeliveryProcessor processor,
    NodeIdentity node,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryDispatcher> logger) : BackgroundService
{
    /// <summary>Longest wait between looks at the queue when nothing woke the loop (other nodes' work, expired leases).</summary>
    private static readonly TimeSpan IdleLook = TimeSpan.FromSeconds(2);

    private readonly Dictionary<Guid, int> _lanes = [];
    private readonly HashSet<Task> _inFlight = [];
    private readonly object _gate = new();

    /// <summary>Deliveries being sent now by this process.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        await Task.Yield();
        if (node.OwnsEarlierRuns && await RetryAsync(() => queue.TakeBackAsync(node.NodePrefix, node.LeaseOwner, stoppingToken), stoppingToken) is > 0 and var taken)
        {
            logger.LogInformation("Took back {Count} deliveries claimed by an earlier run of this node", taken);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CycleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Delivery dispatcher cycle failed; trying again shortly");
                await DelayAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
        }

        Task[] remaining;
        lock (_gate)
        {
            remaining = [.. _inFlight];
        }

        // Sends in flight see the stopping token: they release their leases without recording.
        await Task.WhenAll(remaining).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task CycleAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        int free;
        List<Guid> full;
        lock (_gate)
        {
            free = settings.MaxInFlight - _inFlight.Count;
            full = _lanes.Where(l => l.Value >= settings.MaxConcurrencyPerEndpoint).Select(l => l.Key).ToList();
        }

        if (free > 0)
        {
            // At most one lane's worth per endpoint, none of the full lanes; what still does not fit a partly used lane goes back.
            var claims = await queue.ClaimAsync(Math.Min(free, 256), settings.MaxConcurrencyPerEndpoint, full, node.LeaseOwner, settings.Lease, stoppingToken);
            var started = Start(claims, settings, out var overflow);
            if (overflow.Count > 0)
            {
                await processor.ReleaseAsync(overflow);
            }

            if (claims.Count > 0 && started == claims.Count && claims.Count == Math.Min(free, 256))
            {
                return; // a full batch: there is likely more, look again at once
            }
        }

        var next = await queue.NextDueAsync(stoppingToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var wait = next is { } due ? due - now : IdleLook;
        if (wait <= TimeSpan.Zero)
        {
            // Due now but nothing could be claimed: the lanes or all places are full; a finished send wakes us.
            wait = IdleLook;
            lock (_gate)
            {
                if (_inFlight.Count == 0 && full.Count == 0)
                {
                    wait = TimeSpan.FromMilliseconds(20);
                }
            }
        }

        await DelayAsync(wait > IdleLook ? IdleLook : wait, stoppingToken);
    }

    /// <summary>Starts a send per claim that fits its endpoint's lane; returns how many started, and the claims that did not fit.</summary>
    private int Start(IReadOnlyList<DeliveryClaim> claims, DeliveryOptions settings, out List<DeliveryClaim> overflow)
    {
        overflow = [];
        var started = 0;
        lock (_gate)
        {
            foreach (var claim in claims)
            {
                var used = _lanes.GetValueOrDefault(claim.EndpointId);
                if (used >= settings.MaxConcurrencyPerEndpoint)
                {
                    overflow.Add(claim);
                    continue;
                }

                _lanes[claim.EndpointId] = used + 1;
                var task = Task.Run(() => processor.ProcessAsync(claim, _stoppingToken));
                _inFlight.Add(task);
                task.ContinueWith(Finished, claim.EndpointId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                started++;
            }
        }

        return started;
    }

    private void Finished(Task task, object? state)
    {
        var endpointId = (Guid)state!;
        lock (_gate)
        {
            _inFlight.Remove(task);
            if (_lanes.TryGetValue(endpointId, out var used))
            {
                if (used <= 1)
                {
                    _lanes.Remove(endpointId);
                }
                else
                {
                    _lanes[endpointId] = used - 1;
                }
            }
        }

        if (task.Exception is { } exception)
        {
            logger.LogError(exception.GetBaseException(), "Sending a delivery failed unexpectedly; its lease expires and it is sent again");
        }

        // A place is free, and the attempt may have scheduled a retry: look again.
        wakeup.Wake();
    }

    private CancellationToken _stoppingToken;

    private Task DelayAsync(TimeSpan wait, CancellationToken stoppingToken) => wakeup.WaitAsync(wait, stoppingToken);

    private static async Task<int> RetryAsync(Func<Task<int>> action, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (attempt < 5 && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(200 * attempt, stoppingToken);
            }
        }
    }

}
