using DeliveryConsole.Data;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeliveryConsole.Tests.Data;

public sealed class DatabaseWriterTests
{
    [Fact]
    public async Task A_failing_write_fails_only_its_caller_and_the_others_of_its_batch_commit()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var writer = new DatabaseWriter(database.Factory, NullLogger<DatabaseWriter>.Instance);

        // Queued at once, so they run in one or a few batches; the seventh repeats the sixth's key.
        var duplicate = Guid.NewGuid();
        var writes = Enumerable.Range(0, 10).Select(i => writer.WriteAsync(async db =>
        {
            db.Workspaces.Add(new Workspace { Id = i == 5 ? duplicate : i == 6 ? duplicate : Guid.NewGuid(), Name = $"w{i}", CreatedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        })).ToList();

        var outcomes = await Task.WhenAll(writes.Select(async w =>
        {
            try
            {
                return await w;
            }
            catch (DbUpdateException)
            {
                return -1;
            }
        }));

        Assert.Equal(1, outcomes.Count(o => o == -1));
        Assert.Equal(9, outcomes.Count(o => o == 1));
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.Equal(9, await db.Workspaces.CountAsync(w => w.Name.StartsWith("w")));
    }

    [Fact]
    public async Task Results_are_returned_only_once_committed()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var writer = new DatabaseWriter(database.Factory, NullLogger<DatabaseWriter>.Instance);
        var id = Guid.NewGuid();

        await writer.WriteAsync(async db =>
        {
            db.Workspaces.Add(new Workspace { Id = id, Name = "committed", CreatedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        });

        // A separate connection sees the row as soon as the write's task completes.
        await using var other = await database.Factory.CreateDbContextAsync();
        Assert.True(await other.Workspaces.AnyAsync(w => w.Id == id));
    }
}
