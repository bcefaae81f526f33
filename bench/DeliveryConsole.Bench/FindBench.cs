using System.Data.Common;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Search;
using DeliveryConsole.Features.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Bench;

/// <summary>
/// "Find anything" on a large seeded database of many workspaces
/// (<c>seed-demo --deliveries 1000000 --workspaces 50</c>): each kind of text looked up across every
/// workspace by platform staff (the widest search), and a refused lookup by a member of one
/// workspace, timed in-process as the app bar's dialog calls it, with the plans of its statements.
/// </summary>
public static class FindBench
{
    public static async Task<int> RunAsync(BenchDatabase database, int requests, Func<string> consoleAssembly)
    {
        // The console's CLI applies pending migrations (indexes) to the file first.
        await BenchConsole.CreateKeyAsync(database, consoleAssembly(), "find bench");
        await using var raw = await database.OpenRawAsync();
        var counts = await InspectorBench.Row(database, raw, "SELECT (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM workspaces) WHERE $w = $w", Guid.Empty);
        Console.WriteLine($"find: {database.Describe()}, {counts[0]:N0} deliveries in {counts[1]} workspaces, {requests} requests per kind, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        // What a customer would paste: ids of the last workspace (by name), the one a staff member is least likely to be in.
        var workspace = Guid.Parse((string)(await InspectorBench.Scalar(database, raw, "SELECT Id FROM workspaces ORDER BY Name DESC LIMIT 1"))!);
        var sample = await InspectorBench.Row(database, raw, "SELECT Id, EventId, TargetHost, EndpointId FROM deliveries WHERE WorkspaceId = $w ORDER BY CreatedAt DESC LIMIT 1 OFFSET 500", workspace);
        var (deliveryId, eventId, host, endpointId) = ((string)sample[0], (string)sample[1], (string)sample[2], (string)sample[3]);
        var call = await InspectorBench.Row(database, raw, "SELECT Id, ToNumber FROM calls WHERE WorkspaceId = $w AND ToNumber IS NOT NULL LIMIT 1", workspace);
        var callback = (string)(await InspectorBench.Row(database, raw, "SELECT Id FROM callbacks WHERE WorkspaceId = $w LIMIT 1", workspace))[0];
        var url = (string)(await InspectorBench.Row(database, raw, "SELECT Url FROM webhook_endpoints WHERE Id = $w", Guid.Parse(endpointId)))[0];
        var staffId = (string)(await InspectorBench.Scalar(database, raw, "SELECT Id FROM AspNetUsers WHERE StaffRole = 2 LIMIT 1"))!;

        await using var services = new ServiceCollection()
            .AddDbContextFactory<AppDbContext>(o => o.UseConsoleDatabase(database.Options))
            .AddSingleton(TimeProvider.System)
            .AddSingleton<WorkspaceAccess>()
            .AddSingleton<FindService>()
            .BuildServiceProvider();
        var find = services.GetRequiredService<FindService>();

        // A member of the first workspace only: the ids above are not theirs.
        await using (var db = await services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var first = await db.Workspaces.OrderBy(w => w.Name).Select(w => w.Id).FirstAsync();
            if (!await db.Users.AnyAsync(u => u.Id == "find-bench-member"))
            {
                db.Users.Add(new DeliveryConsole.Features.Access.ApplicationUser { Id = "find-bench-member", UserName = "find-bench@example.com", Email = "find-bench@example.com", CurrentWorkspaceId = first, CreatedAt = DateTime.UtcNow });
                db.WorkspaceMembers.Add(new WorkspaceMember { UserId = "find-bench-member", WorkspaceId = first, Role = DeliveryConsole.Features.Access.Role.Viewer, CreatedAt = DateTime.UtcNow });
                await db.SaveChangesAsync();
            }
        }

        // The process's first query builds EF Core's model; the console does it at start-up.
        await find.FindAsync(staffId, eventId);

        var kinds = new (string Name, string User, string Text, string Sql)[]
        {
            ("event id", staffId, eventId, $"SELECT Id, Type, WorkspaceId FROM events WHERE Id = '{eventId}'"),
            ("delivery id (and endpoint id)", staffId, deliveryId, $"SELECT Id FROM deliveries WHERE Id = '{deliveryId}'"),
            ("call id", staffId, (string)call[0], $"SELECT Id FROM calls WHERE Id = '{call[0]}'"),
            ("callback id", staffId, callback, $"SELECT Id FROM callbacks WHERE Id = '{callback}'"),
            ("phone number", staffId, (string)call[1], $"SELECT WorkspaceId, ToNumber, COUNT(*) FROM calls WHERE ToNumber IN ('{call[1]}') GROUP BY WorkspaceId, ToNumber"),
            ("endpoint URL", staffId, url, $"SELECT Id FROM webhook_endpoints WHERE Url = '{url}' AND DeletedAt IS NULL"),
            ("host", staffId, host, $"WITH RECURSIVE ws(id) AS (SELECT MIN(WorkspaceId) FROM deliveries WHERE TargetHost = '{host}' UNION ALL SELECT (SELECT MIN(WorkspaceId) FROM deliveries WHERE TargetHost = '{host}' AND WorkspaceId > ws.id) FROM ws WHERE ws.id IS NOT NULL) SELECT id FROM ws WHERE id IS NOT NULL LIMIT 200"),
            ("event id of another workspace, by a member of one (refused)", "find-bench-member", eventId, $"SELECT Id, Type, WorkspaceId FROM events WHERE Id = '{eventId}'"),
        };

        Console.WriteLine();
        Console.WriteLine("| text | matches | first | p50 | p95 | plan (main statement) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, user, text, sql) in kinds)
        {
            var matches = (await find.FindAsync(user, text)).Matches.Count;
            var first = await InspectorBench.TimeOnceAsync(() => find.FindAsync(user, text));
            var timed = await InspectorBench.TimeAsync(requests, () => find.FindAsync(user, text));
            Console.WriteLine($"| {name} | {matches} | {first:F2} ms | {timed.P50:F2} ms | {timed.P95:F2} ms | {await PlanAsync(database, raw, sql)} |");
        }

        return 0;
    }

    private static async Task<string> PlanAsync(BenchDatabase database, DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = (database.IsPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + database.Sql(sql);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(database.IsPostgres ? 0 : 3).Trim());
        }

        return string.Join("; ", lines);
    }
}
