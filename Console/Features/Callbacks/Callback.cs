using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Callbacks;

/// <summary>The callback statuses of reference/callbacks.txt, as they travel on the wire.</summary>
public static class CallbackStatus
{
    public const string Scheduled = "scheduled";
    public const string Dispatching = "dispatching";
    public const string Dispatched = "dispatched";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    public static readonly string[] All = [Scheduled, Dispatching, Dispatched, Cancelled, Failed];
}

/// <summary>A return call promised during a call ("call Mrs Diaz back tomorrow at 10:00").</summary>
public sealed class Callback
{
    /// <summary><c>cb_</c> followed by a uuid.</summary>
    public required string Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public string? SourceSessionId { get; set; }
    public string? CreatedSessionId { get; set; }
    public string? AgentId { get; set; }
    public string? PhoneNumberId { get; set; }
    public required string ToNumber { get; set; }
    public string? FromNumber { get; set; }
    public DateTime ScheduledAt { get; set; }
    public required string Status { get; set; }
    public string? Reason { get; set; }
    public string? Instructions { get; set; }
    public string? Summary { get; set; }
    public string PipelineConfigJson { get; set; } = "{}";
    public string MetadataJson { get; set; } = "{}";
    public string? FailureCause { get; set; }
    public string? CancelReason { get; set; }
    public DateTime? AttemptedAt { get; set; }
    public DateTime? DispatchedAt { get; set; }
    public DateTime? CancelledAt { get; set; }
    /// <summary>Held by a dispatcher until then; a crashed dispatch is picked up again after it.</summary>
    public DateTime? LeaseUntil { get; set; }
    public string? HangfireJobId { get; set; }
    /// <summary>The callee's IANA time zone as an operator set it; null: derived from the number's country code.</summary>
    public string? CalleeTimeZone { get; set; }
    /// <summary>When quiet hours moved the callback, the time it was due at before (the first one, if moved more than once).</summary>
    public DateTime? QuietDeferredFrom { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public static string NewId() => "cb_" + Guid.NewGuid().ToString("D");
}

internal sealed class CallbackConfiguration : IEntityTypeConfiguration<Callback>
{
    public void Configure(EntityTypeBuilder<Callback> builder)
    {
        builder.ToTable("callbacks");
        builder.Property(c => c.Id).HasMaxLength(48);
        builder.Property(c => c.Status).HasMaxLength(16);
        builder.Property(c => c.ToNumber).HasMaxLength(32);
        builder.Property(c => c.FromNumber).HasMaxLength(32);
        builder.Property(c => c.CalleeTimeZone).HasMaxLength(64);
        builder.Property(c => c.SourceSessionId).HasMaxLength(64);
        builder.Property(c => c.CreatedSessionId).HasMaxLength(64);
        builder.Property(c => c.AgentId).HasMaxLength(64);
        builder.Property(c => c.PhoneNumberId).HasMaxLength(64);
        builder.Property(c => c.HangfireJobId).HasMaxLength(64);
        builder.HasIndex(c => new { c.WorkspaceId, c.ScheduledAt, c.Id });
        builder.HasIndex(c => new { c.WorkspaceId, c.Status, c.ScheduledAt });
        builder.HasIndex(c => new { c.WorkspaceId, c.SourceSessionId });
        builder.HasIndex(c => c.ToNumber);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId);
    }
}
