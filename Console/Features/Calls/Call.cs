using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Calls;

/// <summary>The call statuses of reference/calls.txt, as they travel on the wire.</summary>
public static class CallStatus
{
    public const string Scheduled = "SCHEDULED";
    public const string Ringing = "RINGING";
    public const string InProgress = "IN_PROGRESS";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
    public const string NoAnswer = "NO_ANSWER";
    public const string Cancelled = "CANCELLED";

    public static readonly string[] All = [Scheduled, Ringing, InProgress, Completed, Failed, NoAnswer, Cancelled];
    public static readonly string[] Live = [Ringing, InProgress];
}

/// <summary>A phone call, inbound or outbound. Ids look like <c>call_&lt;uuid&gt;</c>.</summary>
public sealed class Call
{
    public required string Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Status { get; set; }
    /// <summary>INBOUND or OUTBOUND.</summary>
    public required string Direction { get; set; }
    public string? PhoneNumber { get; set; }
    public string? ToNumber { get; set; }
    public string? FromNumber { get; set; }
    public DateTime? CallTime { get; set; }
    public DateTime? CallStartTime { get; set; }
    public DateTime? CallEndTime { get; set; }
    public string? CallType { get; set; }
    public string? LoadId { get; set; }
    public string? LoadNumber { get; set; }
    public string? CreatedById { get; set; }
    public string? RecordingStatus { get; set; }
    /// <summary>Path of the recording inside the data folder, once there is one.</summary>
    public string? RecordingPath { get; set; }
    public Guid? ApplicationId { get; set; }
    public Guid? CampaignId { get; set; }
    /// <summary>The telephony provider's id for this call.</summary>
    public string? ProviderCallId { get; set; }
    /// <summary>The callback this call was placed for, when it was.</summary>
    public string? CallbackId { get; set; }
    /// <summary>When the ended call's event went to the delivery engine; null until then (the sweep retries).</summary>
    public DateTime? EventPublishedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public bool IsLive => Status is CallStatus.Ringing or CallStatus.InProgress;

    public static string NewId() => "call_" + Guid.NewGuid().ToString("D");
}

internal sealed class CallConfiguration : IEntityTypeConfiguration<Call>
{
    public void Configure(EntityTypeBuilder<Call> builder)
    {
        builder.ToTable("calls");
        builder.Property(c => c.Id).HasMaxLength(48);
        builder.Property(c => c.Status).HasMaxLength(16);
        builder.Property(c => c.Direction).HasMaxLength(16);
        builder.Property(c => c.PhoneNumber).HasMaxLength(32);
        builder.Property(c => c.ToNumber).HasMaxLength(32);
        builder.Property(c => c.FromNumber).HasMaxLength(32);
        builder.Property(c => c.CallType).HasMaxLength(100);
        builder.Property(c => c.LoadId).HasMaxLength(64);
        builder.Property(c => c.LoadNumber).HasMaxLength(64);
        builder.Property(c => c.CreatedById).HasMaxLength(64);
        builder.Property(c => c.RecordingStatus).HasMaxLength(32);
        builder.Property(c => c.RecordingPath).HasMaxLength(500);
        builder.Property(c => c.ProviderCallId).HasMaxLength(128);
        builder.Property(c => c.CallbackId).HasMaxLength(48);
        builder.HasIndex(c => new { c.WorkspaceId, c.CreatedAt }).IsDescending(false, true);
        builder.HasIndex(c => new { c.WorkspaceId, c.Status, c.CreatedAt }).IsDescending(false, false, true);
        builder.HasIndex(c => c.ProviderCallId);
        builder.HasIndex(c => c.CallbackId);
        // Find anything: a phone number, across the workspaces a user may see.
        builder.HasIndex(c => c.ToNumber);
        // Ended calls whose event has not gone out yet (the sweep's outbox).
        builder.HasIndex(c => c.UpdatedAt).HasFilter("\"EventPublishedAt\" IS NULL AND \"CallEndTime\" IS NOT NULL").HasDatabaseName("IX_calls_unpublished");
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId);
    }
}
