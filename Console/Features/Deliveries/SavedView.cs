using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>A named inspector query a user keeps: listed in their navigation, opened by anyone of the workspace who has its link.</summary>
public sealed class SavedView
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>The inspector's query string (<see cref="InspectorQuery.ToQueryString"/>).</summary>
    public required string Query { get; set; }
    public DateTime CreatedAt { get; set; }
}

internal sealed class SavedViewConfiguration : IEntityTypeConfiguration<SavedView>
{
    public void Configure(EntityTypeBuilder<SavedView> builder)
    {
        builder.ToTable("saved_views");
        builder.Property(v => v.Name).HasMaxLength(100);
        builder.Property(v => v.Query).HasMaxLength(2000);
        builder.HasIndex(v => new { v.WorkspaceId, v.UserId, v.Name });
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(v => v.WorkspaceId);
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(v => v.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// Saved inspector views: each user's own list in each workspace (the navigation shows it), and a
/// link (<c>/views/{id}</c>) that opens the view for anyone who may see the workspace (a 404 for
/// anyone else, as every other id).
/// </summary>
public sealed class SavedViewService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public const int MaxPerUser = 50;

    /// <summary>Raised after a user's views change, for their open navigation menus.</summary>
    public event Action<string>? Changed;

    public async Task<IReadOnlyList<SavedView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            return [];
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SavedViews.AsNoTracking()
            .Where(v => v.WorkspaceId == caller.WorkspaceId && v.UserId == caller.ActorId)
            .OrderBy(v => v.Name)
            .ToListAsync(cancellationToken);
    }

    public async Task<SavedView> SaveAsync(Caller caller, string name, InspectorQuery query, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            throw new ForbiddenException("Views are saved for console users.");
        }

        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > 100)
        {
            throw new ValidationException("body", "name", "Give the view a name of 1 to 100 characters.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.SavedViews.Where(v => v.WorkspaceId == caller.WorkspaceId && v.UserId == caller.ActorId);
        if (await mine.CountAsync(cancellationToken) >= MaxPerUser)
        {
            throw new ConflictException($"You have {MaxPerUser} saved views in this workspace; delete one first.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var existing = await mine.FirstOrDefaultAsync(v => v.Name == trimmed, cancellationToken);
        var view = existing ?? new SavedView { Id = Guid.CreateVersion7(), WorkspaceId = caller.WorkspaceId, UserId = caller.ActorId, Name = trimmed, Query = "", CreatedAt = now };
        view.Query = query with { Sort = null, Dir = null } is var q ? q.ToQueryString() : "";
        if (existing is null)
        {
            db.SavedViews.Add(view);
        }

        db.Record(caller, now, existing is null ? "view.saved" : "view.updated", "saved_view", view.Id.ToString(), $"{trimmed}: {view.Query}");
        await db.SaveChangesAsync(cancellationToken);
        Changed?.Invoke(caller.ActorId);
        return view;
    }

    public async Task DeleteAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.SavedViews.Where(v => v.Id == id && v.WorkspaceId == caller.WorkspaceId && v.UserId == caller.ActorId).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            throw new NotFoundException("View not found.");
        }

        Changed?.Invoke(caller.ActorId);
    }

    /// <summary>A view of the caller's workspace by its link, whoever saved it; 404 otherwise.</summary>
    public async Task<SavedView> GetAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SavedViews.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id && v.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("View not found.");
    }
}
