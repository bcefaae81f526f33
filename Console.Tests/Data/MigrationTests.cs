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
    [Fact]
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

    [Fact]
    public async Task Migrate_OnUnusablePath_ThrowsStartupException_AndCreatesNothing()
    {
        using var folder = new TempFolder();
        var blocker = folder.File("not-a-folder");
        await File.WriteAllTextAsync(blocker, "a file where a folder should be");
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(Options.Create(new DatabaseOptions { Path = Path.Combine(blocker, "sub", "dc.db") }))
            .AddDbContextFactory<AppDbContext>((provider, options) =>
                options.UseSqlite(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString))
            .BuildServiceProvider();

        var exception = await Assert.ThrowsAsync<StartupException>(() => services.MigrateDatabaseAsync());
        Assert.Contains("Cannot create the database folder", exception.Message);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task ModelHasNoPendingChanges_AgainstTheCommittedMigrations()
    {
        await using var database = new TestDatabase();
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration: run dotnet ef migrations add.");
    }
}
