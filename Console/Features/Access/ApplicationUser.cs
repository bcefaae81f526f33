using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// A console user: ASP.NET Core Identity, plus the workspace they last worked in. What they may do
/// in a workspace is their membership's role there (<see cref="Workspaces.WorkspaceMember"/>), or
/// their staff role when they are platform staff.
/// </summary>
public sealed class ApplicationUser : IdentityUser
{
    /// <summary>The workspace a link without one (<c>/deliveries</c>) opens: the one the user last switched to.</summary>
    public Guid CurrentWorkspaceId { get; set; }
    /// <summary>Platform staff see every workspace with this role; null for everyone else.</summary>
    public Role? StaffRole { get; set; }
    /// <summary>Workspaces switched to lately, most recent first (comma-separated ids), for the switcher.</summary>
    public string? RecentWorkspaces { get; set; }
    public string? DisplayName { get; set; }
    public bool IsDisabled { get; set; }
    /// <summary>Null until the user picks one; then the console remembers it.</summary>
    public bool? PrefersDarkMode { get; set; }
    /// <summary>Times as UTC instead of the operator's time zone.</summary>
    public bool PrefersUtc { get; set; }
    /// <summary>Inspector columns the user hid (comma-separated keys).</summary>
    public string? HiddenColumns { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
}

internal sealed class ApplicationUserConfiguration : IEntityTypeConfiguration<ApplicationUser>
{
    public void Configure(EntityTypeBuilder<ApplicationUser> builder)
    {
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.CurrentWorkspaceId).HasColumnName("WorkspaceId");
        builder.Property(u => u.RecentWorkspaces).HasMaxLength(400);
        builder.Property(u => u.HiddenColumns).HasMaxLength(400);
        builder.HasIndex(u => u.CurrentWorkspaceId);
        builder.HasIndex(u => u.StaffRole);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(u => u.CurrentWorkspaceId);
    }
}
