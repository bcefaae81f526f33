using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Access;

/// <summary>A console user: ASP.NET Core Identity, plus the workspace and role that fix what they may do.</summary>
public sealed class ApplicationUser : IdentityUser
{
    public Guid WorkspaceId { get; set; }
    public Role Role { get; set; }
    public string? DisplayName { get; set; }
    public bool IsDisabled { get; set; }
    /// <summary>Null until the user picks one; then the console remembers it.</summary>
    public bool? PrefersDarkMode { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }
}

internal sealed class ApplicationUserConfiguration : IEntityTypeConfiguration<ApplicationUser>
{
    public void Configure(EntityTypeBuilder<ApplicationUser> builder)
    {
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.HasIndex(u => u.WorkspaceId);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(u => u.WorkspaceId);
    }
}
