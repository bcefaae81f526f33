using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>An outbound calling campaign. It may have several webhooks.</summary>
public sealed class Campaign
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Name { get; set; }
    /// <summary>draft, active, paused or completed.</summary>
    public required string Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public static readonly string[] Statuses = ["draft", "active", "paused", "completed"];
}

internal sealed class CampaignConfiguration : IEntityTypeConfiguration<Campaign>
{
    public void Configure(EntityTypeBuilder<Campaign> builder)
    {
        builder.ToTable("campaigns");
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.Property(c => c.Status).HasMaxLength(16);
        builder.HasIndex(c => new { c.WorkspaceId, c.CreatedAt });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId);
    }
}
