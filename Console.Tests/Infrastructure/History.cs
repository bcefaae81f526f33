using DeliveryConsole.Data;
using DeliveryConsole.Features.Stats;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>
/// Tests that lay down history straight into the tables (rows at chosen times and in chosen
/// states, as a bulk import or the demo seeder does) give it its rollups as an import does: the
/// rebuild job's SQL over every hour. Live state changes go through the ledger, which keeps them.
/// </summary>
public static class History
{
    public static Task RebuildRollupsAsync(AppDbContext db) => RollupRebuildJob.RebuildAsync(db, 0, long.MaxValue);
}
