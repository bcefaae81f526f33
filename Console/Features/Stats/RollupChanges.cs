using System.Runtime.CompilerServices;
using DeliveryConsole.Data;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// The changes one batch of delivery-state changes makes to the hourly rollups, added up in
/// memory and written once per rollup row at the end of the batch, in key order. One upsert per
/// (workspace, hour, endpoint, event type) the batch touched instead of one per row changed; and
/// because every writer applies its rows in the same order, concurrent writers on a shared
/// database wait for each other instead of deadlocking. On the writer's context the changes of
/// every write of a group commit are added up first (<see cref="DeferWrites"/>) and written once,
/// just before the commit.
/// </summary>
public sealed class RollupChanges
{
    /// <summary>Contexts whose <see cref="ApplyAsync"/> adds to a batch's changes instead of writing them.</summary>
    private static readonly ConditionalWeakTable<AppDbContext, RollupChanges> Deferred = new();

    /// <summary>
    /// From now on, changes applied on <paramref name="db"/> are added to <paramref name="into"/>
    /// (the writer's current write; it moves them into its batch when the write succeeds and
    /// drops them when the write is rolled back), or written at once again when null.
    /// </summary>
    public static void DeferWrites(AppDbContext db, RollupChanges? into)
    {
        if (into is null)
        {
            Deferred.Remove(db);
        }
        else
        {
            Deferred.AddOrUpdate(db, into);
        }
    }

    /// <summary>Adds <paramref name="other"/>'s changes to these.</summary>
    public void Add(RollupChanges other)
    {
        foreach (var (key, row) in other._counts)
        {
            var mine = Row(key);
            for (var i = 0; i < row.Length; i++)
            {
                mine[i] += row[i];
            }
        }

        foreach (var (bucket, count) in other._latency)
        {
            _latency[bucket] = _latency.GetValueOrDefault(bucket) + count;
        }
    }

    /// <summary>Forgets every change.</summary>
    public void Clear()
    {
        _counts.Clear();
        _latency.Clear();
    }

    private readonly SortedDictionary<Key, long[]> _counts = new();
    private readonly SortedDictionary<(Key Key, int Bucket), long> _latency = new();

    private readonly record struct Key(string WorkspaceId, long HourStart, string EndpointId, string EventType) : IComparable<Key>
    {
        public int CompareTo(Key other)
        {
            var c = string.CompareOrdinal(WorkspaceId, other.WorkspaceId);
            c = c != 0 ? c : HourStart.CompareTo(other.HourStart);
            c = c != 0 ? c : string.CompareOrdinal(EndpointId, other.EndpointId);
            return c != 0 ? c : string.CompareOrdinal(EventType, other.EventType);
        }
    }

    private const int Created = 0, Pending = 1, Delivered = 2, Failed = 3, Attempts = 4, FailedAttempts = 5, LatencySum = 6;

    public bool IsEmpty => _counts.Count == 0 && _latency.Count == 0;

    private static Key KeyOf(Guid workspaceId, DateTime at, Guid endpointId, string eventType) =>
        new(workspaceId.ToString("D"), StatsWindow.HourOf(at).Ticks, endpointId.ToString("D"), eventType);

    private long[] Row(Key key)
    {
        if (!_counts.TryGetValue(key, out var row))
        {
            _counts[key] = row = new long[7];
        }

        return row;
    }

    /// <summary>A delivery was stored with <paramref name="status"/> (it counts in the hour it was created).</summary>
    public void DeliveryCreated(Guid workspaceId, DateTime createdAt, Guid endpointId, string eventType, Deliveries.DeliveryStatus status)
    {
        var row = Row(KeyOf(workspaceId, createdAt, endpointId, eventType));
        row[Created]++;
        row[Column(status)]++;
    }

    /// <summary>A delivery's status moved from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void StatusChanged(Guid workspaceId, DateTime createdAt, Guid endpointId, string eventType, Deliveries.DeliveryStatus from, Deliveries.DeliveryStatus to)
    {
        if (from == to)
        {
            return;
        }

        var row = Row(KeyOf(workspaceId, createdAt, endpointId, eventType));
        row[Column(from)]--;
        row[Column(to)]++;
    }

    /// <summary>An attempt was recorded (it counts in the hour it started).</summary>
    public void AttemptRecorded(Guid workspaceId, DateTime startedAt, Guid endpointId, string eventType, int? responseStatus, int durationMs)
    {
        var key = KeyOf(workspaceId, startedAt, endpointId, eventType);
        var row = Row(key);
        row[Attempts]++;
        if (responseStatus is not (>= 200 and <= 299))
        {
            row[FailedAttempts]++;
        }

        row[LatencySum] += durationMs;
        var bucket = (key, LatencyBuckets.Of(durationMs));
        _latency[bucket] = _latency.GetValueOrDefault(bucket) + 1;
    }

    private static int Column(Deliveries.DeliveryStatus status) => status switch
    {
        Deliveries.DeliveryStatus.Pending => Pending,
        Deliveries.DeliveryStatus.Delivered => Delivered,
        _ => Failed,
    };

    /// <summary>Writes the changes in <paramref name="db"/>'s current transaction, in key order, and forgets them.</summary>
    public async Task ApplyAsync(AppDbContext db)
    {
        if (IsEmpty)
        {
            return;
        }

        if (Deferred.TryGetValue(db, out var batch) && !ReferenceEquals(batch, this))
        {
            batch.Add(this);
            Clear();
            return;
        }

        if (db.IsPostgres())
        {
            await ApplySetBasedAsync(db);
            Clear();
            return;
        }

        var upsert = RawSql.Prepared(db, """
            INSERT INTO delivery_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Created", "Pending", "Delivered", "Failed", "Attempts", "FailedAttempts", "LatencySumMs")
            VALUES (@workspace, @hour, @endpoint, @type, @created, @pending, @delivered, @failed, @attempts, @failedAttempts, @latency)
            ON CONFLICT ("WorkspaceId", "HourStart", "EndpointId", "EventType") DO UPDATE SET
                "Created" = delivery_rollups."Created" + excluded."Created", "Pending" = delivery_rollups."Pending" + excluded."Pending",
                "Delivered" = delivery_rollups."Delivered" + excluded."Delivered", "Failed" = delivery_rollups."Failed" + excluded."Failed",
                "Attempts" = delivery_rollups."Attempts" + excluded."Attempts", "FailedAttempts" = delivery_rollups."FailedAttempts" + excluded."FailedAttempts",
                "LatencySumMs" = delivery_rollups."LatencySumMs" + excluded."LatencySumMs"
            """);
        foreach (var (key, row) in _counts)
        {
            if (row.All(v => v == 0))
            {
                continue;
            }

            upsert.Set("@workspace", key.WorkspaceId);
            upsert.Set("@hour", key.HourStart);
            upsert.Set("@endpoint", key.EndpointId);
            upsert.Set("@type", key.EventType);
            upsert.Set("@created", row[Created]);
            upsert.Set("@pending", row[Pending]);
            upsert.Set("@delivered", row[Delivered]);
            upsert.Set("@failed", row[Failed]);
            upsert.Set("@attempts", row[Attempts]);
            upsert.Set("@failedAttempts", row[FailedAttempts]);
            upsert.Set("@latency", row[LatencySum]);
            await upsert.ExecuteNonQueryAsync();
        }

        var latency = RawSql.Prepared(db, """
            INSERT INTO latency_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket", "Count")
            VALUES (@workspace, @hour, @endpoint, @type, @bucket, @count)
            ON CONFLICT ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket") DO UPDATE SET "Count" = latency_rollups."Count" + excluded."Count"
            """);
        foreach (var ((key, bucket), count) in _latency)
        {
            latency.Set("@workspace", key.WorkspaceId);
            latency.Set("@hour", key.HourStart);
            latency.Set("@endpoint", key.EndpointId);
            latency.Set("@type", key.EventType);
            latency.Set("@bucket", bucket);
            latency.Set("@count", count);
            await latency.ExecuteNonQueryAsync();
        }

        var workspaceLatency = RawSql.Prepared(db, """
            INSERT INTO workspace_latency_rollups ("WorkspaceId", "HourStart", "Bucket", "Count")
            VALUES (@workspace, @hour, @bucket, @count)
            ON CONFLICT ("WorkspaceId", "HourStart", "Bucket") DO UPDATE SET "Count" = workspace_latency_rollups."Count" + excluded."Count"
            """);
        foreach (var (key, count) in _latency.GroupBy(p => (p.Key.Key.WorkspaceId, p.Key.Key.HourStart, p.Key.Bucket)).Select(g => (g.Key, g.Sum(p => p.Value))).OrderBy(p => p.Key))
        {
            workspaceLatency.Set("@workspace", key.WorkspaceId);
            workspaceLatency.Set("@hour", key.HourStart);
            workspaceLatency.Set("@bucket", key.Bucket);
            workspaceLatency.Set("@count", count);
            await workspaceLatency.ExecuteNonQueryAsync();
        }

        Clear();
    }

    /// <summary>
    /// PostgreSQL: each rollup table's changes in one upsert from arrays (each statement is a round
    /// trip to the server), rows in key order, so writers of several nodes lock them in the same order.
    /// </summary>
    private async Task ApplySetBasedAsync(AppDbContext db)
    {
        var counts = _counts.Where(p => p.Value.Any(v => v != 0)).ToList();
        if (counts.Count > 0)
        {
            var upsert = RawSql.Prepared(db, """
                INSERT INTO delivery_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Created", "Pending", "Delivered", "Failed", "Attempts", "FailedAttempts", "LatencySumMs")
                SELECT * FROM unnest(@workspace::text[], @hour::bigint[], @endpoint::text[], @type::text[], @created::bigint[], @pending::bigint[],
                    @delivered::bigint[], @failed::bigint[], @attempts::bigint[], @failedAttempts::bigint[], @latency::bigint[])
                ON CONFLICT ("WorkspaceId", "HourStart", "EndpointId", "EventType") DO UPDATE SET
                    "Created" = delivery_rollups."Created" + excluded."Created", "Pending" = delivery_rollups."Pending" + excluded."Pending",
                    "Delivered" = delivery_rollups."Delivered" + excluded."Delivered", "Failed" = delivery_rollups."Failed" + excluded."Failed",
                    "Attempts" = delivery_rollups."Attempts" + excluded."Attempts", "FailedAttempts" = delivery_rollups."FailedAttempts" + excluded."FailedAttempts",
                    "LatencySumMs" = delivery_rollups."LatencySumMs" + excluded."LatencySumMs"
                """);
            upsert.SetEach("@workspace", counts, p => p.Key.WorkspaceId);
            upsert.SetEach("@hour", counts, p => p.Key.HourStart);
            upsert.SetEach("@endpoint", counts, p => p.Key.EndpointId);
            upsert.SetEach("@type", counts, p => p.Key.EventType);
            upsert.SetEach("@created", counts, p => p.Value[Created]);
            upsert.SetEach("@pending", counts, p => p.Value[Pending]);
            upsert.SetEach("@delivered", counts, p => p.Value[Delivered]);
            upsert.SetEach("@failed", counts, p => p.Value[Failed]);
            upsert.SetEach("@attempts", counts, p => p.Value[Attempts]);
            upsert.SetEach("@failedAttempts", counts, p => p.Value[FailedAttempts]);
            upsert.SetEach("@latency", counts, p => p.Value[LatencySum]);
            await upsert.ExecuteNonQueryAsync();
        }

        if (_latency.Count == 0)
        {
            return;
        }

        var latency = RawSql.Prepared(db, """
            INSERT INTO latency_rollups ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket", "Count")
            SELECT * FROM unnest(@workspace::text[], @hour::bigint[], @endpoint::text[], @type::text[], @bucket::integer[], @count::bigint[])
            ON CONFLICT ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket") DO UPDATE SET "Count" = latency_rollups."Count" + excluded."Count"
            """);
        var buckets = _latency.ToList();
        latency.SetEach("@workspace", buckets, p => p.Key.Key.WorkspaceId);
        latency.SetEach("@hour", buckets, p => p.Key.Key.HourStart);
        latency.SetEach("@endpoint", buckets, p => p.Key.Key.EndpointId);
        latency.SetEach("@type", buckets, p => p.Key.Key.EventType);
        latency.SetEach("@bucket", buckets, p => p.Key.Bucket);
        latency.SetEach("@count", buckets, p => p.Value);
        await latency.ExecuteNonQueryAsync();

        var workspace = buckets.GroupBy(p => (p.Key.Key.WorkspaceId, p.Key.Key.HourStart, p.Key.Bucket)).Select(g => (g.Key, Count: g.Sum(p => p.Value))).OrderBy(p => p.Key).ToList();
        var workspaceLatency = RawSql.Prepared(db, """
            INSERT INTO workspace_latency_rollups ("WorkspaceId", "HourStart", "Bucket", "Count")
            SELECT * FROM unnest(@workspace::text[], @hour::bigint[], @bucket::integer[], @count::bigint[])
            ON CONFLICT ("WorkspaceId", "HourStart", "Bucket") DO UPDATE SET "Count" = workspace_latency_rollups."Count" + excluded."Count"
            """);
        workspaceLatency.SetEach("@workspace", workspace, p => p.Key.WorkspaceId);
        workspaceLatency.SetEach("@hour", workspace, p => p.Key.HourStart);
        workspaceLatency.SetEach("@bucket", workspace, p => p.Key.Bucket);
        workspaceLatency.SetEach("@count", workspace, p => p.Count);
        await workspaceLatency.ExecuteNonQueryAsync();
    }
}
