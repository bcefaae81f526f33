using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>Reads deliveries of the caller's workspace, newest first, on the (workspace, created) index.</summary>
public sealed class DeliveryQueries(IDbContextFactory<AppDbContext> dbFactory)
{
    public async Task<IReadOnlyList<Delivery>> RecentAsync(Caller caller, DeliveryStatus? status, int take, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Deliveries.AsNoTracking().Where(d => d.WorkspaceId == caller.WorkspaceId);
        if (status is { } wanted)
        {
            query = query.Where(d => d.Status == wanted);
        }

        return await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
    }
}

public static class DeliveriesExtensions
{
    public static IHostApplicationBuilder AddDeliveries(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeliveryQueries>();
        return builder;
    }
}
