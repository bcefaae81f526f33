using DeliveryConsole.Features.Access;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>A console user's role in one workspace. A user may belong to several workspaces, with a role in each.</summary>
public sealed class WorkspaceMember
{
    public required string UserId { get; set; }
    public Guid WorkspaceId { get; set; }
    public Role Role { get; set; }
    public DateTime CreatedAt { get; set; }
}

internal sealed class WorkspaceMemberConfiguration : IEntityTypeConfiguration<WorkspaceMember>
{
    public void Configure(EntityTypeBuilder<WorkspaceMember> builder)
    {
        builder.ToTable("workspace_members");
        builder.HasKey(m => new { m.UserId, m.WorkspaceId });
        builder.HasIndex(m => m.WorkspaceId);
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(m => m.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
