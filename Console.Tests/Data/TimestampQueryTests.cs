using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Data;

/// <summary>Timestamps are UTC ticks: SQLite filters and orders them itself, no client evaluation.</summary>
public sealed class TimestampQueryTests
{
    [Fact]
    public async Task Deliveries_FilterAndOrderByTime_InTheDatabase()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        var workspace = new Workspace { Id = Guid.NewGuid(), Name = "w", CreatedAt = DateTime.UtcNow };
        var endpoint = new WebhookEndpoint { Id = Guid.NewGuid(), WorkspaceId = workspace.Id, Url = "https://e.example", SecretProtected = "x", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        var evt = new WebhookEvent { Id = "evt_1", WorkspaceId = workspace.Id, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = DateTime.UtcNow };
        var t0 = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        // Offsets chosen so that text order and time order would disagree (9 < 10 minutes, sub-second ticks).
        var offsets = new[] { TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(9), TimeSpan.FromTicks(1), TimeSpan.Zero, TimeSpan.FromHours(-1), TimeSpan.FromMilliseconds(500) };
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            db.AddRange(workspace, endpoint, evt);
            foreach (var offset in offsets)
            {
                db.Deliveries.Add(new Delivery
                {
                    Id = Guid.NewGuid(), WorkspaceId = workspace.Id, EventId = evt.Id, EndpointId = endpoint.Id, EventType = evt.Type, Channel = "voice",
                    TargetUrl = endpoint.Url, TargetHost = "e.example", PayloadJson = "{}", CreatedAt = t0 + offset, UpdatedAt = t0,
                });
            }

            await db.SaveChangesAsync();
        }

        await using var read = await database.Factory.CreateDbContextAsync();
        var query = read.Deliveries.Where(d => d.CreatedAt > t0).OrderByDescending(d => d.CreatedAt).Select(d => d.CreatedAt);
        // Compared and ordered in SQL (SQLite quotes the alias, PostgreSQL does not).
        var sql = query.ToQueryString().Replace("\"d\".", "d.", StringComparison.Ordinal);
        Assert.Contains("ORDER BY d.\"CreatedAt\" DESC", sql);
        Assert.Contains("WHERE d.\"CreatedAt\" >", sql);

        var result = await query.ToListAsync();
        Assert.Equal(offsets.Where(o => o > TimeSpan.Zero).OrderDescending().Select(o => t0 + o), result);
        Assert.All(result, r => Assert.Equal(DateTimeKind.Utc, r.Kind));

        var column = await read.Database.SqlQueryRaw<string>(TestProvider.IsPostgres
            ? "SELECT pg_typeof(\"CreatedAt\")::text AS \"Value\" FROM deliveries LIMIT 1"
            : "SELECT typeof(CreatedAt) AS Value FROM deliveries LIMIT 1").SingleAsync();
        Assert.Equal(TestProvider.IsPostgres ? "bigint" : "integer", column);
    }
}
