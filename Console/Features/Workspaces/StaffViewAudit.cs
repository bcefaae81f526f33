using System.Collections.Concurrent;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>
/// Writes a platform staff member's look into a workspace they are not a member of to that
/// workspace's audit log: who, when, and which page with its query (<c>staff.viewed</c>). The same
/// page (whatever its query) seen again by the same person within <see cref="Quiet"/> is not written
/// twice, so paging, filtering and live updates do not flood the log.
/// </summary>
public sealed class StaffViewAudit(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock, ILogger<StaffViewAudit> logger)
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<(string Actor, Guid Workspace, string Page), DateTime> _written = new();

    /// <summary>Records the view of <paramref name="page"/> (a path with its query) by a caller whose access comes from the staff flag.</summary>
    public async Task RecordAsync(Caller caller, string page, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var key = (caller.ActorId, caller.WorkspaceId, page.Split('?')[0]);
        if (_written.TryGetValue(key, out var at) && now - at < Quiet)
        {
            return;
        }

        _written[key] = now;
        if (_written.Count > 50_000)
        {
            foreach (var old in _written.Where(pair => now - pair.Value >= Quiet).Select(pair => pair.Key).ToList())
            {
                _written.TryRemove(old, out _);
            }
        }

        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            db.Record(caller, now, "staff.viewed", "page", page.Length > 128 ? page[..128] : page,
                $"Platform staff ({caller.Role.ToWire()}) without membership viewed {page}");
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is DbUpdateException or OperationCanceledException)
        {
            _written.TryRemove(key, out _);
            logger.LogWarning(exception, "Could not write the staff view of {Page} by {Actor} to the audit log", page, caller.ActorName);
        }
    }
}
