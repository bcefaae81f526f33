using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>An organization. Every other row belongs to exactly one workspace.</summary>
public sealed class Workspace
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>The workspace's part of console URLs: <c>/w/{slug}/deliveries</c>. Lowercase letters, digits and dashes.</summary>
    public string? Slug { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Quiet hours for callbacks, in minutes after midnight in the callee's zone (start inclusive, end exclusive; may wrap midnight); null: none.</summary>
    public int? QuietHoursStart { get; set; }
    public int? QuietHoursEnd { get; set; }

    /// <summary>A URL-safe form of a name: "Acme Logistics, Inc." → "acme-logistics-inc".</summary>
    public static string SlugOf(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var c in name.Normalize(NormalizationForm.FormD).ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                text.Append(c);
            }
            else if (char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark && text.Length > 0 && text[^1] != '-')
            {
                text.Append('-');
            }
        }

        var slug = text.ToString().Trim('-');
        slug = slug.Length > 48 ? slug[..48].TrimEnd('-') : slug;
        return slug.Length == 0 ? "workspace" : slug;
    }
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<Workspace>
{
    public void Configure(EntityTypeBuilder<Workspace> builder)
    {
        builder.ToTable("workspaces");
        builder.Property(w => w.Name).HasMaxLength(200);
        builder.Property(w => w.Slug).HasMaxLength(64);
        builder.HasIndex(w => w.Name).IsUnique();
        builder.HasIndex(w => w.Slug).IsUnique();
    }
}
