using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Audit;

public sealed record AuditFilter(string? Action = null, string? Actor = null, string? Outcome = null, DateTime? From = null, DateTime? To = null, string? Search = null);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total);

/// <summary>Reads the workspace's audit trail, newest first. Every role may read it.</summary>
public sealed class AuditQueryService(IDbContextFactory<AppDbContext> dbFactory)
{
    public async Task<AuditPage> ListAsync(Caller caller, AuditFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        take = Math.Clamp(take, 1, 200);
        skip = Math.Max(0, skip);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.AuditEntries.AsNoTracking().Where(a => a.WorkspaceId == caller.WorkspaceId);
        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            query = query.Where(a => a.Action.StartsWith(filter.Action));
        }

        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            query = query.Where(a => a.ActorName.Contains(filter.Actor));
        }

        if (!string.IsNullOrWhiteSpace(filter.Outcome))
        {
            query = query.Where(a => a.Outcome == filter.Outcome);
        }

        if (filter.From is { } from)
        {
            query = query.Where(a => a.At >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(a => a.At < to);
        }

        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var term = filter.Search.Trim();
            query = query.Where(a => (a.TargetId != null && a.TargetId.Contains(term)) || (a.Details != null && a.Details.Contains(term)));
        }

        // The audit trail of one workspace stays small enough to count; the index serves the order.
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(a => a.At).ThenByDescending(a => a.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new AuditPage(items, total);
    }

    public async Task<IReadOnlyList<string>> ActionsAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AuditEntries.AsNoTracking().Where(a => a.WorkspaceId == caller.WorkspaceId)
            .Select(a => a.Action).Distinct().OrderBy(a => a).ToListAsync(cancellationToken);
    }
}

public static class AuditExtensions
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditQueryService>();
        return builder;
    }
}
