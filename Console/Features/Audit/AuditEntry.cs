using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Audit;

/// <summary>Who did what to which target, when, and how it ended. Written for every state-changing action.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public Guid WorkspaceId { get; set; }
    /// <summary>user, key or system.</summary>
    public required string ActorType { get; set; }
    public string? ActorId { get; set; }
    public required string ActorName { get; set; }
    /// <summary>Dotted verb, e.g. <c>api_key.created</c>.</summary>
    public required string Action { get; set; }
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    /// <summary>success or failure.</summary>
    public required string Outcome { get; set; }
    public string? Details { get; set; }
    public DateTime At { get; set; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_entries");
        builder.Property(a => a.ActorType).HasMaxLength(16);
        builder.Property(a => a.ActorId).HasMaxLength(64);
        builder.Property(a => a.ActorName).HasMaxLength(256);
        builder.Property(a => a.Action).HasMaxLength(64);
        builder.Property(a => a.TargetType).HasMaxLength(64);
        builder.Property(a => a.TargetId).HasMaxLength(128);
        builder.Property(a => a.Outcome).HasMaxLength(16);
        builder.Property(a => a.Details).HasMaxLength(4000);
        builder.HasIndex(a => new { a.WorkspaceId, a.At });
        builder.HasIndex(a => new { a.WorkspaceId, a.Action, a.At });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(a => a.WorkspaceId);
    }
}
