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

        var workspace = new Workspace { Id = Guid.CreateVersion7(), Name = wanted, Slug = await FreeSlugAsync(db, wanted, cancellationToken), CreatedAt = clock.GetUtcNow().UtcDateTime };
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

    /// <summary>Gives every workspace without one its URL slug (workspaces made before slugs existed). Runs at start-up.</summary>
    public async Task EnsureSlugsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var missing = await db.Workspaces.Where(w => w.Slug == null).OrderBy(w => w.CreatedAt).ToListAsync(cancellationToken);
        foreach (var workspace in missing)
        {
            workspace.Slug = await FreeSlugAsync(db, workspace.Name, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>The name's slug, or with -2, -3… when another workspace has it (a slug never reads as a uuid or an org id).</summary>
    private static async Task<string> FreeSlugAsync(AppDbContext db, string name, CancellationToken cancellationToken)
    {
        var slug = Workspace.SlugOf(name);
        if (slug.StartsWith("org-", StringComparison.Ordinal) || Guid.TryParse(slug, out _) || slug == "w")
        {
            slug = "ws-" + slug;
        }

        var taken = await db.Workspaces.Where(w => w.Slug != null && w.Slug.StartsWith(slug)).Select(w => w.Slug!).ToListAsync(cancellationToken);
        var candidate = slug;
        for (var n = 2; taken.Contains(candidate); n++)
        {
            candidate = $"{slug}-{n}";
        }

        return candidate;
    }

    public async Task<Workspace?> FindAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Workspaces.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
    }
}
