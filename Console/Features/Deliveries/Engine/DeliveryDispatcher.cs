using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>What the sender and the ledger need of one claimed delivery, carried by the claim so nothing is read again per delivery.</summary>
public sealed record DeliveryClaim(
    Guid Id, Guid WorkspaceId, string EventId, Guid EndpointId, string PayloadJson, int Attempts,
    string EndpointUrl, string SecretProtected, EndpointStatus EndpointStatus, string? DisabledReason, bool EndpointDeleted, string LeaseOwner,
    string EventType, DateTime CreatedAt);

/// <summary>How due deliveries are claimed: SQLite in process now; PostgreSQL adds SKIP LOCKED behind it.</summary>
public interface IDeliveryQueue
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries, oldest due first, at most
    /// <paramref name="perEndpoint"/> of one endpoint and none of <paramref name="skipEndpoints"/>,
    /// with a lease for <paramref name="owner"/>.
    /// </summary>
    Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, int perEndpoint, IReadOnlyCollection<Guid> skipEndpoints, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>When the next pending delivery is due, or its lease expires (null when none is pending).</summary>
    Task<DateTime?> NextDueAsync(CancellationToken cancellationToken);

    /// <summary>Releases the leases of earlier runs of this node (their process is gone), due at once; returns how many.</summary>
    Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken);

    /// <summary>Gives claimed deliveries back unsent: due again at once for whoever claims next.</summary>
    Task ReleaseAsync(IReadOnlyCollection<DeliveryClaim> claims);
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
/// conditional <c>UPDATE … RETURNING</c>, then reads their endpoints' URL and secret in one
/// statement. A claim moves the row's <c>NextAttemptAt</c> to its lease's end (a visibility
/// timeout): the due index then holds only what may be claimed now, a claim never steps over rows
/// in flight, and a lease that runs out makes its row due again by itself. Part of the ledger's
/// module: it changes only the lease and its due time.
/// </summary>
public sealed class SqliteDeliveryQueue(DatabaseWriter writer, IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock) : IDeliveryQueue
{
    /// <summary>How many of the oldest due rows one claim looks at to pick its batch.</summary>
    private const int Scan = 2000;

    public Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, int perEndpoint, IReadOnlyCollection<Guid> skipEndpoints, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync<IReadOnlyList<DeliveryClaim>>(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime.Ticks;
            var claim = RawSql.Prepared(db, """
                UPDATE deliveries SET "LeaseOwner" = $owner, "LeaseUntil" = $until, "NextAttemptAt" = $until
                WHERE rowid IN (
                    SELECT rowid FROM (
                        SELECT rowid, "NextAttemptAt", ROW_NUMBER() OVER (PARTITION BY "EndpointId" ORDER BY "NextAttemptAt") AS lane
                        FROM (
                            SELECT rowid, "EndpointId", "NextAttemptAt" FROM deliveries INDEXED BY "IX_deliveries_due"
                            WHERE "Status" = 0 AND "NextAttemptAt" <= $now AND "EndpointId" NOT IN (SELECT value FROM json_each($skip))
                            ORDER BY "NextAttemptAt" LIMIT $scan))
                    WHERE lane <= $perEndpoint
                    ORDER BY "NextAttemptAt" LIMIT $limit)
                RETURNING "Id", "WorkspaceId", "EventId", "EndpointId", "PayloadJson", "Attempts", "EventType", "CreatedAt"
                """);
            claim.Set("$owner", owner);
            claim.Set("$until", now + lease.Ticks);
            claim.Set("$now", now);
            claim.Set("$skip", JsonSerializer.Serialize(skipEndpoints.Select(e => e.ToString("D"))));
            claim.Set("$scan", Scan);
            claim.Set("$perEndpoint", perEndpoint);
            claim.Set("$limit", limit);

            var rows = new List<(Guid Id, Guid Workspace, string EventId, Guid Endpoint, string Payload, int Attempts, string EventType, long CreatedAt)>();
            await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2), Guid.Parse(reader.GetString(3)),
                        reader.GetString(4), reader.GetInt32(5), reader.GetString(6), reader.GetInt64(7)));
                }
            }

            if (rows.Count == 0)
            {
                return [];
            }

            var read = RawSql.Prepared(db, """
                SELECT "Id", "Url", "SecretProtected", "Status", "DisabledReason", "DeletedAt" IS NOT NULL FROM webhook_endpoints
                WHERE "Id" IN (SELECT value FROM json_each($ids))
                """);
            read.Set("$ids", JsonSerializer.Serialize(rows.Select(r => r.Endpoint).Distinct().Select(e => e.ToString("D"))));
            var endpoints = new Dictionary<Guid, (string Url, string Secret, EndpointStatus Status, string? Reason, bool Deleted)>();
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    endpoints[Guid.Parse(reader.GetString(0))] = (reader.GetString(1), reader.GetString(2), (EndpointStatus)reader.GetInt32(3),
                        reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5));
                }
            }

            return rows.Select(r =>
            {
                var e = endpoints[r.Endpoint];
                return new DeliveryClaim(r.Id, r.Workspace, r.EventId, r.Endpoint, r.Payload, r.Attempts, e.Url, e.Secret, e.Status, e.Reason, e.Deleted, owner,
                    r.EventType, new DateTime(r.CreatedAt, DateTimeKind.Utc));
            }).ToList();
        });

    public async Task<DateTime?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt != null)
            .MinAsync(d => d.NextAttemptAt, cancellationToken);
    }

    public Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken) =>
        writer.WriteAsync(async db =>
        {
            var takeBack = RawSql.Prepared(db, """
                UPDATE deliveries SET "LeaseOwner" = NULL, "LeaseUntil" = NULL, "NextAttemptAt" = $now
                WHERE "Status" = 0 AND "NextAttemptAt" IS NOT NULL AND "LeaseOwner" IS NOT NULL
                    AND substr("LeaseOwner", 1, length($prefix)) = $prefix AND "LeaseOwner" <> $current
                """);
            takeBack.Set("$now", clock.GetUtcNow().UtcDateTime.Ticks);
            takeBack.Set("$prefix", nodePrefix);
            takeBack.Set("$current", currentOwner);
            return await takeBack.ExecuteNonQueryAsync(cancellationToken);
        });

    public Task ReleaseAsync(IReadOnlyCollection<DeliveryClaim> claims) =>
        writer.WriteAsync(async db =>
        {
            var release = RawSql.Prepared(db, """
                UPDATE deliveries SET "LeaseOwner" = NULL, "LeaseUntil" = NULL, "NextAttemptAt" = $now
                WHERE "Id" IN (SELECT value FROM json_each($ids)) AND "LeaseOwner" = $owner AND "Status" = 0
                """);
            release.Set("$now", clock.GetUtcNow().UtcDateTime.Ticks);
            release.Set("$ids", JsonSerializer.Serialize(claims.Select(c => c.Id.ToString("D"))));
            release.Set("$owner", claims.First().LeaseOwner);
            return await release.ExecuteNonQueryAsync();
        });
}

/// <summary>
/// Sends due deliveries. One loop claims batches from <see cref="IDeliveryQueue"/> (woken at once
/// when a publish or resend commits, and at the next due time for retries) into per-endpoint
/// lanes. A lane sends at most <see cref="DeliveryOptions.MaxConcurrencyPerEndpoint"/> at once
/// and keeps up to three times as many claimed and waiting, so a fast endpoint never waits for a
/// claim round trip; a lane that holds that many is left out of the next claim, so a slow
/// endpoint holds only its own lane and the others keep their pace. All lanes together hold at
/// most <see cref="DeliveryOptions.MaxInFlight"/>. Each delivery is sent and recorded by
/// <see cref="DeliveryProcessor"/>.
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

    /// <summary>How soon to look again when something is due that the last claim did not take.</summary>
    private static readonly TimeSpan ShortLook = TimeSpan.FromMilliseconds(25);

    /// <summary>Most claimed in one batch.</summary>
    private const int MaxBatch = 256;

    private sealed class Lane
    {
        public readonly Queue<DeliveryClaim> Waiting = new();
        public int Sending;

        /// <summary>The endpoint asked to slow down (429, 502, 503, 504): nothing more is sent to it before then.</summary>
        public DateTime PausedUntil;

        public int Held => Waiting.Count + Sending;
    }

    private readonly Dictionary<Guid, Lane> _lanes = [];
    private readonly HashSet<Task> _tasks = [];
    private readonly object _gate = new();
    private int _held;
    private CancellationToken _stoppingToken;

    /// <summary>Deliveries this process holds now (sending or claimed and waiting for their lane).</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _held;
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
                await wakeup.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
        }

        await DrainAsync();
    }

    private async Task CycleAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        var perLane = settings.MaxConcurrencyPerEndpoint * 4;
        int free;
        List<Guid> full;
        lock (_gate)
        {
            free = Math.Min(MaxBatch, settings.MaxInFlight - _held);
            var now = clock.GetUtcNow().UtcDateTime;
            full = _lanes.Where(l => l.Value.Held >= perLane || l.Value.PausedUntil > now).Select(l => l.Key).ToList();
            foreach (var (endpointId, lane) in _lanes.Where(l => l.Value.PausedUntil != default && l.Value.PausedUntil <= now).ToList())
            {
                // A pause is over: the lane sends what waited.
                lane.PausedUntil = default;
                Pump(endpointId, lane, settings);
                if (lane.Held == 0)
                {
                    _lanes.Remove(endpointId);
                }
            }
        }

        if (free > 0)
        {
            var claims = await queue.ClaimAsync(free, perLane, full, node.LeaseOwner, settings.Lease, stoppingToken);
            Admit(claims, settings);
            if (claims.Count == free)
            {
                return; // a full batch: there is likely more, look again at once
            }
        }

        var next = await queue.NextDueAsync(stoppingToken);
        lock (_gate)
        {
            // A paused lane resumes on time too.
            foreach (var lane in _lanes.Values.Where(l => l.PausedUntil != default))
            {
                next = next is { } n && n < lane.PausedUntil ? n : lane.PausedUntil;
            }
        }

        var wait = next is { } due ? due - clock.GetUtcNow().UtcDateTime : IdleLook;
        if (wait <= TimeSpan.Zero)
        {
            // Due now but not in this claim: it became due just after it, or its lane (or every place)
            // is full, when a finished send wakes the loop anyway. Look again shortly.
            wait = ShortLook;
        }

        await wakeup.WaitAsync(wait > IdleLook ? IdleLook : wait, stoppingToken);
    }

    /// <summary>Puts claims into their lanes and starts what the lanes allow.</summary>
    private void Admit(IReadOnlyList<DeliveryClaim> claims, DeliveryOptions settings)
    {
        lock (_gate)
        {
            foreach (var claim in claims)
            {
                if (!_lanes.TryGetValue(claim.EndpointId, out var lane))
                {
                    _lanes[claim.EndpointId] = lane = new Lane();
                }

                lane.Waiting.Enqueue(claim);
                _held++;
                Pump(claim.EndpointId, lane, settings);
            }
        }
    }

    /// <summary>Starts waiting claims of a lane while it has free senders. Holds the gate.</summary>
    private void Pump(Guid endpointId, Lane lane, DeliveryOptions settings)
    {
        if (lane.PausedUntil > clock.GetUtcNow().UtcDateTime)
        {
            return;
        }

        while (lane.Sending < settings.MaxConcurrencyPerEndpoint && lane.Waiting.TryDequeue(out var claim))
        {
            lane.Sending++;
            var task = Task.Run(() => processor.ProcessAsync(claim, _stoppingToken));
            _tasks.Add(task);
            task.ContinueWith(Sent, endpointId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A send finished: its lane's place is free at once (the next delivery of the endpoint goes
    /// out while this attempt is recorded); the delivery still counts against
    /// <see cref="DeliveryOptions.MaxInFlight"/> until its attempt is recorded.
    /// </summary>
    private void Sent(Task<DeliveryProcessor.Sent> task, object? state)
    {
        var endpointId = (Guid)state!;
        var settings = options.CurrentValue;
        bool refill;
        var recorded = task.IsCompletedSuccessfully ? task.Result.Recorded : Task.CompletedTask;
        lock (_gate)
        {
            _tasks.Remove(task);
            _tasks.Add(recorded);
            var lane = _lanes[endpointId];
            lane.Sending--;
            if (task is { IsCompletedSuccessfully: true, Result.Pause: { } pause })
            {
                var until = clock.GetUtcNow().UtcDateTime + pause;
                lane.PausedUntil = until > lane.PausedUntil ? until : lane.PausedUntil;
            }

            Pump(endpointId, lane, settings);
            if (lane.Held == 0 && lane.PausedUntil <= clock.GetUtcNow().UtcDateTime)
            {
                _lanes.Remove(endpointId);
            }

            // Claim more when this lane runs low on waiting work.
            refill = lane.Waiting.Count <= settings.MaxConcurrencyPerEndpoint;
        }

        if (task.Exception is { } exception)
        {
            logger.LogError(exception.GetBaseException(), "Sending a delivery failed unexpectedly; its lease expires and it is sent again");
        }

        recorded.ContinueWith(Recorded, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (refill)
        {
            wakeup.Wake();
        }
    }

    private void Recorded(Task task)
    {
        lock (_gate)
        {
            _tasks.Remove(task);
            _held--;
        }

        if (task.Exception is { } exception)
        {
            logger.LogError(exception.GetBaseException(), "Recording an attempt failed; its lease expires and the delivery is sent again");
        }

        wakeup.Wake();
    }

    /// <summary>On shutdown: sends in flight see the stopping token and release their leases; claims not started are released.</summary>
    private async Task DrainAsync()
    {
        Task[] sends;
        List<DeliveryClaim> waiting;
        lock (_gate)
        {
            sends = [.. _tasks];
            waiting = _lanes.Values.SelectMany(l => l.Waiting).ToList();
            foreach (var lane in _lanes.Values)
            {
                lane.Waiting.Clear();
            }
        }

        if (waiting.Count > 0)
        {
            try
            {
                await queue.ReleaseAsync(waiting);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not release {Count} claimed deliveries on shutdown; their leases expire", waiting.Count);
            }
        }

        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

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
