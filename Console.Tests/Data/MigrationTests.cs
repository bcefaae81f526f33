using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Tests.Data;

public sealed class MigrationTests
{
    [SqliteFact]
    public async Task Migrations_ApplyOnEmptyDatabase_AndAgainAreANoOp()
    {
        await using var database = new TestDatabase();
        Assert.False(File.Exists(database.Path));

        await database.MigrateAsync();
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Equal(db.Database.GetMigrations(), applied);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            var tables = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'table'").ToListAsync();
            Assert.Superset(new HashSet<string> { "workspaces", "api_keys", "AspNetUsers", "webhook_endpoints", "applications", "campaigns", "events", "deliveries", "delivery_attempts", "calls", "callbacks", "audit_entries" }, tables.ToHashSet());
            var journal = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync();
            Assert.Equal("wal", journal.Single());
        }

        await database.MigrateAsync();
    }

    [SqliteFact]
    public async Task Migrate_OnUnusablePath_ThrowsStartupException_AndCreatesNothing()
    {
        using var folder = new TempFolder();
        var blocker = folder.File("not-a-folder");
        await File.WriteAllTextAsync(blocker, "a file where a folder should be");
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(Options.Create(new DatabaseOptions { Path = Path.Combine(blocker, "sub", "dc.db") }))
            .AddDbContextFactory<AppDbContext>((provider, options) =>
                options.UseConsoleDatabase(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value))
            .BuildServiceProvider();

        var exception = await Assert.ThrowsAsync<StartupException>(() => services.MigrateDatabaseAsync());
        Assert.Contains("Cannot create the data folder", exception.Message);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task ModelHasNoPendingChanges_AgainstTheCommittedMigrations()
    {
        await using var database = new TestDatabase();
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration: run dotnet ef migrations add.");
    }

    [SqliteTheory]
    [InlineData("", "IX_deliveries_WorkspaceId_CreatedAt_Id")]
    [InlineData("AND Status = 2", "IX_deliveries_WorkspaceId_Status_CreatedAt")]
    [InlineData("AND EventType = 'call.completed'", "IX_deliveries_WorkspaceId_EventType_CreatedAt")]
    [InlineData("AND Channel = 'sms'", "IX_deliveries_WorkspaceId_Channel_CreatedAt")]
    [InlineData("AND TargetHost = 'hooks.example.com'", "IX_deliveries_TargetHost_WorkspaceId_CreatedAt")]
    [InlineData("AND EndpointId = 'e'", "IX_deliveries_EndpointId_CreatedAt")]
    [InlineData("AND CreatedAt >= 1", "IX_deliveries_WorkspaceId_CreatedAt_Id")]
    public async Task Each_inspector_filter_reads_its_own_index_in_order(string condition, string index)
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var db = await database.Factory.CreateDbContextAsync();
        var indexes = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM pragma_index_list('deliveries')").ToListAsync();
        Assert.Equal(indexes.Order(), PlannerStatistics.Deliveries.Keys.Order());

        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT Id FROM deliveries WHERE WorkspaceId = 'w' {condition} ORDER BY CreatedAt DESC, Id DESC LIMIT 50";
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Contains(plan, step => step.Contains($"INDEX {index} ", StringComparison.Ordinal));
        // Rows come out in time order: at most ties are sorted, never the whole match.
        Assert.DoesNotContain(plan, step => step == "USE TEMP B-TREE FOR ORDER BY");
    }
}
