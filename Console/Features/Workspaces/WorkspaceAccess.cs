using System.Collections.Concurrent;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>A workspace as lists and links show it.</summary>
public sealed record WorkspaceSummary(Guid Id, string Name, string Slug)
{
    public string OrganizationId => Workspaces.OrganizationId.Of(Id);
}

/// <summary>What a console user may do in one workspace, and why: a membership, or the platform staff flag.</summary>
public sealed record WorkspaceGrant(WorkspaceSummary Workspace, Role Role, bool ViaStaff);

/// <summary>
/// Decides which workspaces a console user may see and with which role: their membership's role,
/// or for platform staff their staff role in every workspace (the higher of the two when both).
/// Every console request and circuit resolves its workspace here (by the <c>/w/{slug}</c> of its
/// URL, or the user's current workspace); services then check the resulting <see cref="Caller"/>
/// as they always have. Answers are kept for a few seconds per user; a change made on this node
/// clears them at once, one made on another node applies within <see cref="CacheLifetime"/>.
/// </summary>
public sealed class WorkspaceAccess(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    private sealed record UserFacts(Guid Current, Role? Staff, bool Disabled, IReadOnlyDictionary<Guid, Role> Memberships, IReadOnlyList<Guid> Recent, DateTime At);

    private readonly ConcurrentDictionary<string, UserFacts> _users = new();
    private readonly ConcurrentDictionary<string, (WorkspaceSummary? Workspace, DateTime At)> _workspaces = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The user's grant in the workspace <paramref name="workspaceRef"/> names (a slug, <c>org_&lt;uuid&gt;</c> or
    /// the uuid), or in their current workspace when it is null. Null when the user may not see it,
    /// when it does not exist (the same answer, so nothing tells them apart), or when the user is disabled.
    /// </summary>
    public async Task<WorkspaceGrant?> GrantAsync(string userId, string? workspaceRef, CancellationToken cancellationToken = default)
    {
        if (await FactsAsync(userId, cancellationToken) is not { Disabled: false } facts)
        {
            return null;
        }

        WorkspaceSummary? workspace;
        if (workspaceRef is null)
        {
            // The current one while the user may still see it; else their first membership.
            var id = facts.Staff is not null || facts.Memberships.ContainsKey(facts.Current)
                ? facts.Current
                : facts.Memberships.Keys.Order().FirstOrDefault();
            workspace = id == Guid.Empty ? null : await FindAsync(id.ToString("D"), cancellationToken);
        }
        else
        {
            workspace = await FindAsync(workspaceRef, cancellationToken);
        }

        return workspace is null ? null : GrantIn(facts, workspace);
    }

    /// <summary>The grant in a workspace known by id (global search results, the switcher).</summary>
    public async Task<WorkspaceGrant?> GrantAsync(string userId, Guid workspaceId, CancellationToken cancellationToken = default) =>
        await GrantAsync(userId, workspaceId.ToString("D"), cancellationToken);

    /// <summary>The staff role of a user, or null when they are not platform staff (or are disabled).</summary>
    public async Task<Role?> StaffRoleAsync(string userId, CancellationToken cancellationToken = default) =>
        await FactsAsync(userId, cancellationToken) is { Disabled: false } facts ? facts.Staff : null;

    /// <summary>Ids of the workspaces the user may see; null means every workspace (platform staff).</summary>
    public async Task<IReadOnlySet<Guid>?> VisibleIdsAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (await FactsAsync(userId, cancellationToken) is not { Disabled: false } facts)
        {
            return new HashSet<Guid>();
        }

        return facts.Staff is not null ? null : facts.Memberships.Keys.ToHashSet();
    }

    /// <summary>
    /// Workspaces the user may see whose name, slug or organization id contains <paramref name="search"/>,
    /// recent ones first, then by name; at most <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<WorkspaceGrant>> ListAsync(string userId, string? search, int limit = 50, CancellationToken cancellationToken = default)
    {
        if (await FactsAsync(userId, cancellationToken) is not { Disabled: false } facts)
        {
            return [];
        }

        var text = search?.Trim() ?? "";
        var orgId = text.StartsWith("org_", StringComparison.OrdinalIgnoreCase) ? text[4..] : text;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Workspaces.AsNoTracking();
        if (facts.Staff is null)
        {
            var ids = facts.Memberships.Keys.ToList();
            query = query.Where(w => ids.Contains(w.Id));
        }

        if (Guid.TryParse(orgId, out var exact))
        {
            query = query.Where(w => w.Id == exact);
        }
        else if (text.Length > 0)
        {
            var lowered = text.ToLowerInvariant();
            query = query.Where(w => w.Name.ToLower().Contains(lowered) || (w.Slug != null && w.Slug.Contains(lowered)));
        }

        var recent = facts.Recent.Take(limit).ToList();
        var found = await query.OrderBy(w => w.Name).Take(limit + recent.Count)
            .Select(w => new WorkspaceSummary(w.Id, w.Name, w.Slug ?? w.Id.ToString()))
            .ToListAsync(cancellationToken);
        return found
            .OrderBy(w => recent.IndexOf(w.Id) is var at && at >= 0 ? at : int.MaxValue)
            .ThenBy(w => w.Name, StringComparer.OrdinalIgnoreCase)
            .Take(limit)
            .Select(w => GrantIn(facts, w))
            .OfType<WorkspaceGrant>()
            .ToList();
    }

    /// <summary>
    /// The user chose <paramref name="workspaceId"/> (the switcher): it becomes their current
    /// workspace, which a link without one opens, and the first of their recent ones.
    /// </summary>
    public Task SwitchAsync(string userId, Guid workspaceId, CancellationToken cancellationToken = default) =>
        RememberAsync(userId, workspaceId, makeCurrent: true, cancellationToken);

    /// <summary>
    /// The user opened a page of <paramref name="workspaceId"/> (a shared link, a search result): it
    /// goes first among the recent ones, but the current workspace stays the one they chose, so their
    /// bookmarks do not move to whichever customer a colleague's link showed last.
    /// </summary>
    public Task VisitAsync(string userId, Guid workspaceId, CancellationToken cancellationToken = default) =>
        RememberAsync(userId, workspaceId, makeCurrent: false, cancellationToken);

    private async Task RememberAsync(string userId, Guid workspaceId, bool makeCurrent, CancellationToken cancellationToken)
    {
        if (await FactsAsync(userId, cancellationToken) is not { } facts
            || ((!makeCurrent || facts.Current == workspaceId) && facts.Recent.FirstOrDefault() == workspaceId))
        {
            return;
        }

        var recent = string.Join(',', facts.Recent.Where(id => id != workspaceId).Prepend(workspaceId).Take(8).Select(id => id.ToString("D")));
        var current = makeCurrent ? workspaceId : facts.Current;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.CurrentWorkspaceId, current).SetProperty(u => u.RecentWorkspaces, recent), cancellationToken);
        Forget(userId);
    }

    /// <summary>Drops what is kept about a user (after a change to their memberships or staff flag).</summary>
    public void Forget(string userId) => _users.TryRemove(userId, out _);

    /// <summary>Drops what is kept about workspaces (after one is created or renamed).</summary>
    public void ForgetWorkspaces() => _workspaces.Clear();

    private static WorkspaceGrant? GrantIn(UserFacts facts, WorkspaceSummary workspace)
    {
        Role? member = facts.Memberships.TryGetValue(workspace.Id, out var role) ? role : null;
        Role? granted = (member, facts.Staff) switch
        {
            ({ } m, { } s) => m >= s ? m : s,
            ({ } m, null) => m,
            (null, { } s) => s,
            _ => null,
        };
        return granted is { } r ? new WorkspaceGrant(workspace, r, ViaStaff: member is null) : null;
    }

    private async Task<UserFacts?> FactsAsync(string userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_users.TryGetValue(userId, out var cached) && now - cached.At < CacheLifetime)
        {
            return cached;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.CurrentWorkspaceId, u.StaffRole, u.IsDisabled, u.RecentWorkspaces })
            .FirstOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            _users.TryRemove(userId, out _);
            return null;
        }

        var memberships = await db.WorkspaceMembers.AsNoTracking().Where(m => m.UserId == userId)
            .Select(m => new { m.WorkspaceId, m.Role })
            .ToDictionaryAsync(m => m.WorkspaceId, m => m.Role, cancellationToken);
        var recent = (user.RecentWorkspaces ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(text => Guid.TryParse(text, out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty)
            .ToList();
        var facts = new UserFacts(user.CurrentWorkspaceId, user.StaffRole, user.IsDisabled, memberships, recent, now);
        if (_users.Count > 10_000)
        {
            _users.Clear();
        }

        _users[userId] = facts;
        return facts;
    }

    private async Task<WorkspaceSummary?> FindAsync(string workspaceRef, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_workspaces.TryGetValue(workspaceRef, out var cached) && now - cached.At < TimeSpan.FromSeconds(30))
        {
            return cached.Workspace;
        }

        var text = workspaceRef.StartsWith("org_", StringComparison.OrdinalIgnoreCase) ? workspaceRef[4..] : workspaceRef;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Workspaces.AsNoTracking();
        var slug = workspaceRef.ToLowerInvariant();
        query = Guid.TryParse(text, out var id) ? query.Where(w => w.Id == id) : query.Where(w => w.Slug == slug);
        var found = await query.Select(w => new WorkspaceSummary(w.Id, w.Name, w.Slug ?? w.Id.ToString())).FirstOrDefaultAsync(cancellationToken);
        if (_workspaces.Count > 10_000)
        {
            _workspaces.Clear();
        }

        _workspaces[workspaceRef] = (found, now);
        return found;
    }
}
