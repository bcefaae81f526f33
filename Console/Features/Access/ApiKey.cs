using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Access;

/// <summary>A bearer key. Only its SHA-256 hash is stored; the prefix stays visible to tell keys apart.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the key, e.g. <c>dck_3fA9x2Qm</c>.</summary>
    public required string Prefix { get; set; }
    /// <summary>Lowercase hex SHA-256 of the whole key.</summary>
    public required string Hash { get; set; }
    public Role Role { get; set; }
    public DateTime CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.Property(k => k.Name).HasMaxLength(100);
        builder.Property(k => k.Prefix).HasMaxLength(16);
        builder.Property(k => k.Hash).HasMaxLength(64);
        builder.Property(k => k.CreatedBy).HasMaxLength(256);
        builder.HasIndex(k => k.Hash).IsUnique();
        builder.HasIndex(k => new { k.WorkspaceId, k.CreatedAt });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(k => k.WorkspaceId);
    }
}
