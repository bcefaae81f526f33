using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>A customer application. Its finishedUrl receives each call's CDR after hangup.</summary>
public sealed class Application
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Name { get; set; }
    public string? FinishedUrl { get; set; }
    /// <summary>The endpoint that FinishedUrl became; null while FinishedUrl is unset.</summary>
    public Guid? EndpointId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

internal sealed class ApplicationConfiguration : IEntityTypeConfiguration<Application>
{
    public void Configure(EntityTypeBuilder<Application> builder)
    {
        builder.ToTable("applications");
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.Property(a => a.FinishedUrl).HasMaxLength(2048);
        builder.HasIndex(a => new { a.WorkspaceId, a.CreatedAt });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(a => a.WorkspaceId);
        builder.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(a => a.EndpointId).OnDelete(DeleteBehavior.SetNull);
    }
}
