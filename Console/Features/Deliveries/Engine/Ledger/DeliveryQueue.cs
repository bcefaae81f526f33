using DeliveryConsole.Data;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// What the sender and the ledger need of one claimed delivery, carried by the claim so nothing is
/// read again per delivery. <see cref="TargetUrl"/> is the URL the delivery's row holds (null when
/// not known): the ledger rewrites the row's target only when the endpoint's URL has changed since.
/// </summary>
public sealed record DeliveryClaim(
    Guid Id, Guid WorkspaceId, string EventId, Guid EndpointId, string PayloadJson, int Attempts,
    string EndpointUrl, string SecretProtected, EndpointStatus EndpointStatus, string? DisabledReason, bool EndpointDeleted, string LeaseOwner,
    string EventType, DateTime CreatedAt, string? TargetUrl = null, string? PreviousSecretProtected = null)
{
    /// <summary>
    /// Leases a delivery not stored yet to <paramref name="owner"/> until <paramref name="until"/>
    /// (due again then, as a claimed row is) and returns its claim: the dispatcher's hand-over and
    /// the test send store it so, and no dispatcher claims it meanwhile.
    /// </summary>
    public static DeliveryClaim LeaseNew(Delivery delivery, WebhookEndpoint endpoint, string owner, DateTime until)
    {
        delivery.LeaseOwner = owner;
        delivery.LeaseUntil = until;
        delivery.NextAttemptAt = until;
        return new DeliveryClaim(delivery.Id, delivery.WorkspaceId, delivery.EventId, endpoint.Id, delivery.PayloadJson, 0,
            endpoint.Url, endpoint.SecretProtected, endpoint.Status, endpoint.DisabledReason, endpoint.DeletedAt is not null, owner,
            delivery.EventType, delivery.CreatedAt, delivery.TargetUrl, endpoint.PreviousSecretStillSigning(until));
    }
}

/// <summary>
/// How many of one endpoint a claim may take: none of <see cref="Skip"/> (their lanes are full),
/// up to <see cref="WidePerEndpoint"/> of <see cref="Wide"/> (lanes with room for more than
/// usual: fast endpoints, which hold what they send in a second), and up to
/// <see cref="PerEndpoint"/> of any other.
/// </summary>
public sealed record ClaimLanes(int PerEndpoint, IReadOnlyCollection<Guid> Skip, IReadOnlyCollection<Guid> Wide, int WidePerEndpoint);

/// <summary>How due deliveries are claimed (<see cref="DeliveryQueue"/>: SQLite, or PostgreSQL with SKIP LOCKED).</summary>
public interface IDeliveryQueue
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries, oldest due first, as many of each
    /// endpoint as <paramref name="lanes"/> allows, with a lease for <paramref name="owner"/>.
    /// </summary>
    Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, ClaimLanes lanes, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>When the next pending delivery is due, or its lease expires (null when none is pending).</summary>
    Task<DateTime?> NextDueAsync(CancellationToken cancellationToken);

    /// <summary>Releases the leases of earlier runs of this node (their process is gone), due at once; returns how many.</summary>
    Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken);

    /// <summary>Gives claimed deliveries back unsent: due again at once for whoever claims next.</summary>
    Task ReleaseAsync(IReadOnlyCollection<DeliveryClaim> claims);
}

/// <summary>
/// Wakes the dispatcher when deliveries become due (a publish or resend committed, a retry was
/// scheduled). A wake reaches every node (LISTEN/NOTIFY on PostgreSQL); a due time stays with the
/// node that scheduled it (the others find the row by their periodic look if it dies).
/// </summary>
public interface IDeliveryWakeup
{
    /// <summary>Deliveries are due now in the database.</summary>
    void Wake();

    /// <summary>
    /// Deliveries of these endpoints were stored due by this node (a publish whose lanes were
    /// full): a wake for every other node, and for this one only if one of their lanes has room.
    /// </summary>
    void WakeFor(IReadOnlyCollection<Guid> endpoints);

    /// <summary>The endpoints given to <see cref="WakeFor"/> since the last call of this.</summary>
    IReadOnlyCollection<Guid> TakeWokenFor();

    /// <summary>A delivery becomes due at <paramref name="at"/> (a retry was scheduled).</summary>
    void DueAt(DateTime at);

    /// <summary>Wakes the local loop without anything new being due (it has room again).</summary>
    void Nudge();

    /// <summary>Whether <see cref="Wake"/> was called since the last call of this.</summary>
    bool TakeWake();

    /// <summary>The earliest time given to <see cref="DueAt"/> since the last call of this (null when none).</summary>
    DateTime? TakeDueAt();

    /// <summary>Waits until woken (true) or <paramref name="timeout"/> passes (false).</summary>
    Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// The dispatcher's wake-up: in process, and across nodes through <see cref="IClusterSignals"/>
/// (LISTEN/NOTIFY on PostgreSQL): deliveries stored due on one node wake the dispatchers of all.
/// </summary>
public sealed class InProcessWakeup : IDeliveryWakeup, IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly IClusterSignals? _cluster;
    private int _woken;
    private long _dueAt = long.MaxValue;

    public InProcessWakeup(IClusterSignals? cluster = null)
    {
        _cluster = cluster;
        cluster?.Subscribe(ClusterChannels.Wake, _ => WakeHere());
    }

    public void Wake()
    {
        WakeHere();
        _cluster?.Publish(ClusterChannels.Wake);
    }

    private readonly HashSet<Guid> _wokenFor = [];

    public void WakeFor(IReadOnlyCollection<Guid> endpoints)
    {
        lock (_wokenFor)
        {
            _wokenFor.UnionWith(endpoints);
        }

        Nudge();
        _cluster?.Publish(ClusterChannels.Wake);
    }

    public IReadOnlyCollection<Guid> TakeWokenFor()
    {
        lock (_wokenFor)
        {
            if (_wokenFor.Count == 0)
            {
                return [];
            }

            var taken = _wokenFor.ToList();
            _wokenFor.Clear();
            return taken;
        }
    }

    private void WakeHere()
    {
        Interlocked.Exchange(ref _woken, 1);
        Nudge();
    }

    public void DueAt(DateTime at)
    {
        var ticks = at.Ticks;
        for (var seen = Interlocked.Read(ref _dueAt); ticks < seen; seen = Interlocked.Read(ref _dueAt))
        {
            if (Interlocked.CompareExchange(ref _dueAt, ticks, seen) == seen)
            {
                Nudge();
                return;
            }
        }
    }

    public void Nudge()
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

    public bool TakeWake() => Interlocked.Exchange(ref _woken, 0) == 1;

    public DateTime? TakeDueAt() => Interlocked.Exchange(ref _dueAt, long.MaxValue) is var ticks && ticks != long.MaxValue ? new DateTime(ticks, DateTimeKind.Utc) : null;

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await _signal.WaitAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _signal.Dispose();
}

/// <summary>
/// The database is the queue: claims due rows in batches through the one writer, in one
/// conditional <c>UPDATE … RETURNING</c>, then reads their endpoints' URL and secret in one
/// statement. A claim moves the row's <c>NextAttemptAt</c> to its lease's end (a visibility
/// timeout): the due index then holds only what may be claimed now, a claim never steps over rows
/// in flight, and a lease that runs out makes its row due again by itself. On PostgreSQL, where
/// several nodes claim from one table, the rows are picked <c>FOR UPDATE SKIP LOCKED</c>: a row
/// another node is claiming is passed over, never claimed twice (a row it has claimed is no longer
/// due). Part of the ledger's module: it changes only the lease and its due time.
/// </summary>
public sealed class DeliveryQueue(DatabaseWriter writer, IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock) : IDeliveryQueue
{
    /// <summary>
    /// How many of the oldest due rows one claim looks at to pick its batch: four times what it
    /// may take (rows of lanes that are full are left out before), between 64 and 2,000. A small
    /// claim does not sort two thousand rows to take a few dozen.
    /// </summary>
    private static int Scan(int limit) => Math.Clamp(limit * 4, 64, 2000);

    private const string SqliteClaim = """
        UPDATE deliveries SET "LeaseOwner" = @owner, "LeaseUntil" = @until, "NextAttemptAt" = @until
        WHERE rowid IN (
            SELECT rowid FROM (
                SELECT rowid, "EndpointId", "NextAttemptAt", ROW_NUMBER() OVER (PARTITION BY "EndpointId" ORDER BY "NextAttemptAt") AS lane
                FROM (
                    SELECT rowid, "EndpointId", "NextAttemptAt" FROM deliveries INDEXED BY "IX_deliveries_due"
                    WHERE "Status" = 0 AND "NextAttemptAt" <= @now AND "EndpointId" NOT IN (SELECT value FROM json_each(@skip))
                    ORDER BY "NextAttemptAt" LIMIT @scan))
            WHERE lane <= CASE WHEN "EndpointId" IN (SELECT value FROM json_each(@wide)) THEN @widePerEndpoint ELSE @perEndpoint END
            ORDER BY "NextAttemptAt" LIMIT @limit)
        RETURNING "Id", "WorkspaceId", "EventId", "EndpointId", "PayloadJson", "Attempts", "EventType", "CreatedAt", "TargetUrl"
        """;

    private const string PostgresClaim = """
        WITH due AS (
            SELECT "Id", "EndpointId", "NextAttemptAt" FROM deliveries
            WHERE "Status" = 0 AND "NextAttemptAt" <= @now AND NOT ("EndpointId" = ANY (@skip))
            ORDER BY "NextAttemptAt" LIMIT @scan
            FOR UPDATE SKIP LOCKED),
        picked AS (
            SELECT "Id" FROM (
                SELECT "Id", "EndpointId", "NextAttemptAt", ROW_NUMBER() OVER (PARTITION BY "EndpointId" ORDER BY "NextAttemptAt") AS lane FROM due) AS lanes
            WHERE lane <= CASE WHEN "EndpointId" = ANY (@wide) THEN @widePerEndpoint ELSE @perEndpoint END
            ORDER BY "NextAttemptAt" LIMIT @limit)
        UPDATE deliveries AS d SET "LeaseOwner" = @owner, "LeaseUntil" = @until, "NextAttemptAt" = @until
        FROM picked WHERE d."Id" = picked."Id"
        RETURNING d."Id", d."WorkspaceId", d."EventId", d."EndpointId", d."PayloadJson", d."Attempts", d."EventType", d."CreatedAt", d."TargetUrl"
        """;

    public Task<IReadOnlyList<DeliveryClaim>> ClaimAsync(int limit, ClaimLanes lanes, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        writer.WriteAsync<IReadOnlyList<DeliveryClaim>>(async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime.Ticks;
            var claim = RawSql.Prepared(db, db.IsPostgres() ? PostgresClaim : SqliteClaim);
            claim.Set("@owner", owner);
            claim.Set("@until", now + lease.Ticks);
            claim.Set("@now", now);
            claim.Set("@skip", RawSql.IdList(db, lanes.Skip));
            claim.Set("@scan", Scan(limit));
            claim.Set("@perEndpoint", lanes.PerEndpoint);
            claim.Set("@wide", RawSql.IdList(db, lanes.Wide));
            claim.Set("@widePerEndpoint", lanes.WidePerEndpoint);
            claim.Set("@limit", limit);

            var rows = new List<(Guid Id, Guid Workspace, string EventId, Guid Endpoint, string Payload, int Attempts, string EventType, long CreatedAt, string TargetUrl)>();
            await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2), Guid.Parse(reader.GetString(3)),
                        reader.GetString(4), reader.GetInt32(5), reader.GetString(6), reader.GetInt64(7), reader.GetString(8)));
                }
            }

            if (rows.Count == 0)
            {
                return [];
            }

            var read = RawSql.Prepared(db, $"""
                SELECT "Id", "Url", "SecretProtected", "Status", "DisabledReason", "DeletedAt" IS NOT NULL,
                    CASE WHEN "PreviousSecretUntil" > @now THEN "PreviousSecretProtected" END
                FROM webhook_endpoints
                WHERE {RawSql.InIdList(db, "\"Id\"", "@ids")}
                """);
            read.Set("@ids", RawSql.IdList(db, rows.Select(r => r.Endpoint).Distinct().ToList()));
            read.Set("@now", now);
            var endpoints = new Dictionary<Guid, (string Url, string Secret, EndpointStatus Status, string? Reason, bool Deleted, string? Previous)>();
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    endpoints[Guid.Parse(reader.GetString(0))] = (reader.GetString(1), reader.GetString(2), (EndpointStatus)reader.GetInt32(3),
                        reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetString(6));
                }
            }

            return rows.Select(r =>
            {
                var e = endpoints[r.Endpoint];
                return new DeliveryClaim(r.Id, r.Workspace, r.EventId, r.Endpoint, r.Payload, r.Attempts, e.Url, e.Secret, e.Status, e.Reason, e.Deleted, owner,
                    r.EventType, new DateTime(r.CreatedAt, DateTimeKind.Utc), r.TargetUrl, e.Previous);
            }).ToList();
        });

    public async Task<DateTime?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt != null)
            .MinAsync(d => d.NextAttemptAt, cancellationToken);
    }

    /// <summary>A lease given back unsent makes the row due now: a resend asked meanwhile is served by that next send (no attempts counted yet).</summary>
    private const string ResendServedByNextSend = """
        "Attempts" = CASE WHEN "ResendRequestedAt" IS NULL THEN "Attempts" ELSE 0 END, "ResendRequestedAt" = NULL
        """;

    public Task<int> TakeBackAsync(string nodePrefix, string currentOwner, CancellationToken cancellationToken) =>
        writer.WriteAsync(async db =>
        {
            var takeBack = RawSql.Prepared(db, $"""
                UPDATE deliveries SET "LeaseOwner" = NULL, "LeaseUntil" = NULL, "NextAttemptAt" = @now, {ResendServedByNextSend}
                WHERE "Status" = 0 AND "NextAttemptAt" IS NOT NULL AND "LeaseOwner" IS NOT NULL
                    AND substr("LeaseOwner", 1, length(@prefix)) = @prefix AND "LeaseOwner" <> @current
                """);
            takeBack.Set("@now", clock.GetUtcNow().UtcDateTime.Ticks);
            takeBack.Set("@prefix", nodePrefix);
            takeBack.Set("@current", currentOwner);
            return await takeBack.ExecuteNonQueryAsync(cancellationToken);
        });

    public Task ReleaseAsync(IReadOnlyCollection<DeliveryClaim> claims) =>
        writer.WriteAsync(async db =>
        {
            var release = RawSql.Prepared(db, $"""
                UPDATE deliveries SET "LeaseOwner" = NULL, "LeaseUntil" = NULL, "NextAttemptAt" = @now, {ResendServedByNextSend}
                WHERE {RawSql.InIdList(db, "\"Id\"", "@ids")} AND "LeaseOwner" = @owner AND "Status" + 0 = 0
                """);
            release.Set("@now", clock.GetUtcNow().UtcDateTime.Ticks);
            release.Set("@ids", RawSql.IdList(db, claims.Select(c => c.Id).ToList()));
            release.Set("@owner", claims.First().LeaseOwner);
            return await release.ExecuteNonQueryAsync();
        });
}
