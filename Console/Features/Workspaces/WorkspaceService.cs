using DeliveryConsole.Data;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Workspaces;

public sealed class WorkspaceOptions
{
    public const string Section = "Workspace";

    /// <summary>Name of the workspace created on first run.</summary>
    public string DefaultName { get; set; } = "Default";
}

public sealed class WorkspaceService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, IOptions<WorkspaceOptions> options)
{
    public string DefaultName => options.Value.DefaultName;

    /// <summary>The workspace of that name, created when there is none. Returns whether it was created.</summary>
    public async Task<(Workspace Workspace, bool Created)> EnsureAsync(string? name, CancellationToken cancellationToken = default)
    {
        var wanted = string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var existing = await db.Workspaces.FirstOrDefaultAsync(w => w.Name == wanted, cancellationToken);
        if (existing is not null)
        {
            return (existing, false);
        }

        var workspace = new Workspace { Id = Guid.CreateVersion7(), Name = wanted, CreatedAt = clock.GetUtcNow().UtcDateTime };
        db.Workspaces.Add(workspace);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return (workspace, true);
        }
        catch (DbUpdateException)
        {
            // Another process created it first (unique name): use theirs.
            await using var again = await dbFactory.CreateDbContextAsync(cancellationToken);
            return (await again.Workspaces.SingleAsync(w => w.Name == wanted, cancellationToken), false);
        }
    }

    public async Task<Workspace?> FindAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Workspaces.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
    }
}
