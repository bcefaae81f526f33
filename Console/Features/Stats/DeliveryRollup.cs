using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Stats;

/// <summary>
/// Delivery counts of one workspace, endpoint and event type in one UTC hour. Deliveries count in
/// the hour they were created (their outcome moves between <see cref="Pending"/>, <see cref="Delivered"/>
/// and <see cref="Failed"/> as it changes); attempts count in the hour they started.
/// Maintained by the delivery ledger in the same transaction as the row change (see <see cref="RollupChanges"/>).
/// </summary>
public sealed class DeliveryRollup
{
    public Guid WorkspaceId { get; set; }
    /// <summary>Start of the hour, UTC.</summary>
    public DateTime HourStart { get; set; }
    public Guid EndpointId { get; set; }
    public required string EventType { get; set; }
    public long Created { get; set; }
    public long Pending { get; set; }
    public long Delivered { get; set; }
    public long Failed { get; set; }
    public long Attempts { get; set; }
    public long FailedAttempts { get; set; }
    public long LatencySumMs { get; set; }
}

/// <summary>How many attempts of one rollup key took a duration in latency bucket <see cref="Bucket"/> (see <see cref="LatencyBuckets"/>).</summary>
public sealed class LatencyRollup
{
    public Guid WorkspaceId { get; set; }
    public DateTime HourStart { get; set; }
    public Guid EndpointId { get; set; }
    public required string EventType { get; set; }
    public int Bucket { get; set; }
    public long Count { get; set; }
}

/// <summary>
/// How many attempts of a workspace in one hour took a duration in latency bucket
/// <see cref="Bucket"/>, whatever the endpoint and event type: what a window's p50 / p95 read (a
/// week is at most 168 × 18 rows, against tens of thousands of <see cref="LatencyRollup"/> rows).
/// </summary>
public sealed class WorkspaceLatencyRollup
{
    public Guid WorkspaceId { get; set; }
    public DateTime HourStart { get; set; }
    public int Bucket { get; set; }
    public long Count { get; set; }
}

internal sealed class WorkspaceLatencyRollupConfiguration : IEntityTypeConfiguration<WorkspaceLatencyRollup>
{
    public void Configure(EntityTypeBuilder<WorkspaceLatencyRollup> builder)
    {
        builder.ToTable("workspace_latency_rollups");
        builder.HasKey(r => new { r.WorkspaceId, r.HourStart, r.Bucket });
    }
}

internal sealed class DeliveryRollupConfiguration : IEntityTypeConfiguration<DeliveryRollup>
{
    public void Configure(EntityTypeBuilder<DeliveryRollup> builder)
    {
        builder.ToTable("delivery_rollups");
        builder.HasKey(r => new { r.WorkspaceId, r.HourStart, r.EndpointId, r.EventType });
        builder.Property(r => r.EventType).HasMaxLength(100);
        builder.HasIndex(r => new { r.EndpointId, r.HourStart });
    }
}

internal sealed class LatencyRollupConfiguration : IEntityTypeConfiguration<LatencyRollup>
{
    public void Configure(EntityTypeBuilder<LatencyRollup> builder)
    {
        builder.ToTable("latency_rollups");
        builder.HasKey(r => new { r.WorkspaceId, r.HourStart, r.EndpointId, r.EventType, r.Bucket });
        builder.Property(r => r.EventType).HasMaxLength(100);
    }
}

/// <summary>
/// Upper bounds (inclusive, milliseconds) of the latency histogram's buckets; the last bucket is
/// everything above. A percentile read from the histogram is the upper bound of the bucket it falls in.
/// </summary>
public static class LatencyBuckets
{
    public static readonly int[] UpperBoundsMs = [10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000];

    public static int Count => UpperBoundsMs.Length + 1;

    public static int Of(int durationMs)
    {
        var index = Array.BinarySearch(UpperBoundsMs, durationMs);
        return index >= 0 ? index : ~index;
    }

    /// <summary>The reported value of a bucket: its upper bound, or for the open last bucket its lower bound.</summary>
    public static int ValueOf(int bucket) => bucket < UpperBoundsMs.Length ? UpperBoundsMs[bucket] : UpperBoundsMs[^1];

    /// <summary>The smallest bucket value with at least <paramref name="quantile"/> of the counts at or below it; null without counts.</summary>
    public static int? Percentile(IReadOnlyDictionary<int, long> countsByBucket, double quantile)
    {
        var total = countsByBucket.Values.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        foreach (var (bucket, count) in countsByBucket.OrderBy(p => p.Key))
        {
            seen += count;
            if (seen >= Math.Max(rank, 1))
            {
                return ValueOf(bucket);
            }
        }

        return ValueOf(Count - 1);
    }
}
