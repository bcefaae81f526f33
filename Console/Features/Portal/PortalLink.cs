using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Portal;

/// <summary>
/// A customer portal link: whoever holds its token sees one workspace's deliveries, attempts and
/// endpoints (all of them, or the listed ones), until it expires or is revoked. The token is shown
/// once; only its SHA-256 hash is stored.
/// </summary>
public sealed class PortalLink
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string TokenHash { get; set; }
    /// <summary>The token's first characters, to tell links apart in lists.</summary>
    public required string Prefix { get; set; }
    public string? Label { get; set; }
    /// <summary>Empty: every endpoint of the workspace.</summary>
    public List<Guid> EndpointIds { get; set; } = [];
    public bool AllowResend { get; set; }
    public bool AllowRotateSecret { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }

    public bool IsReadOnly => !AllowResend && !AllowRotateSecret;
}

internal sealed class PortalLinkConfiguration : IEntityTypeConfiguration<PortalLink>
{
    public void Configure(EntityTypeBuilder<PortalLink> builder)
    {
        builder.ToTable("portal_links");
        builder.Property(l => l.TokenHash).HasMaxLength(64);
        builder.Property(l => l.Prefix).HasMaxLength(16);
        builder.Property(l => l.Label).HasMaxLength(200);
        builder.Property(l => l.CreatedBy).HasMaxLength(256);
        builder.PrimitiveCollection(l => l.EndpointIds);
        builder.HasIndex(l => l.TokenHash).IsUnique();
        builder.HasIndex(l => new { l.WorkspaceId, l.CreatedAt });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(l => l.WorkspaceId);
    }
}
