using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>Something that happened (a call completed, a campaign started…). Fans out to one delivery per matching endpoint.</summary>
public sealed class WebhookEvent
{
    /// <summary><c>evt_</c> followed by 24 hex characters.</summary>
    public required string Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Type { get; set; }
    /// <summary>voice or sms.</summary>
    public required string Channel { get; set; }
    public required string PayloadJson { get; set; }
    public string? CallId { get; set; }
    public Guid? ApplicationId { get; set; }
    public Guid? CampaignId { get; set; }
    public DateTime CreatedAt { get; set; }

    public static readonly string[] Channels = ["voice", "sms"];
}

internal sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> builder)
    {
        builder.ToTable("events");
        builder.Property(e => e.Id).HasMaxLength(40);
        builder.Property(e => e.Type).HasMaxLength(100);
        builder.Property(e => e.Channel).HasMaxLength(16);
        builder.Property(e => e.CallId).HasMaxLength(48);
        builder.HasIndex(e => new { e.WorkspaceId, e.CreatedAt });
        builder.HasIndex(e => e.CallId);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(e => e.WorkspaceId);
    }
}
