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

    /// <summary>Workspaces added in one SaveChanges for all the items of a batch (a kind of write).</summary>
    private sealed class WorkspaceInserts : IWriteKind<Workspace>
    {
        public int Calls;
        public int LargestCall;

        public async Task WriteAsync(AppDbContext db, IReadOnlyList<Workspace> items)
        {
            Interlocked.Increment(ref Calls);
            LargestCall = Math.Max(LargestCall, items.Count);
            db.Workspaces.AddRange(items.Select(w => new Workspace { Id = w.Id, Name = w.Name, CreatedAt = w.CreatedAt }));
            await db.SaveChangesAsync();
        }
    }

    [Fact]
    public async Task A_batch_runs_each_kind_in_one_call_and_when_one_item_is_bad_only_that_one_fails()
    {
        await using var database = new TestDatabase();
        await database.MigrateAsync();
        await using var writer = new DatabaseWriter(database.Factory, NullLogger<DatabaseWriter>.Instance);
        var kind = new WorkspaceInserts();

        // A write held open keeps the loop busy while the others queue: they make the next batch together.
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = writer.WriteAsync(async _ => { await hold.Task; return 0; });
        await Task.Delay(100);
        var together = Enumerable.Range(0, 8).Select(i => writer.WriteAsync(kind, new Workspace { Id = Guid.NewGuid(), Name = $"k{i}", CreatedAt = DateTime.UtcNow })).ToList();
        var plain = writer.WriteAsync(async db =>
        {
            db.Workspaces.Add(new Workspace { Id = Guid.NewGuid(), Name = "plain", CreatedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        });
        hold.SetResult();
        await held;
        await Task.WhenAll(together);
        Assert.Equal(1, await plain);
        Assert.Equal(8, kind.LargestCall);
        Assert.Equal(1, kind.Calls);

        // Again with one item repeating an existing key: the batch is replayed one write at a time.
        var existing = (await writer.WriteAsync(async db => await db.Workspaces.Where(w => w.Name == "k0").Select(w => w.Id).SingleAsync()));
        hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holdAgain = hold;
        held = writer.WriteAsync(async _ => { await holdAgain.Task; return 0; });
        await Task.Delay(100);
        var second = Enumerable.Range(0, 6).Select(i => writer.WriteAsync(kind, new Workspace { Id = i == 3 ? existing : Guid.NewGuid(), Name = $"s{i}", CreatedAt = DateTime.UtcNow })).ToList();
        plain = writer.WriteAsync(async db =>
        {
            db.Workspaces.Add(new Workspace { Id = Guid.NewGuid(), Name = "plain2", CreatedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        });
        hold.SetResult();
        await held;
        var outcomes = await Task.WhenAll(second.Select(async w =>
        {
            try
            {
                await w;
                return true;
            }
            catch (DbUpdateException)
            {
                return false;
            }
        }));

        Assert.Equal([true, true, true, false, true, true], outcomes);
        Assert.Equal(1, await plain);
        await using var check = await database.Factory.CreateDbContextAsync();
        Assert.Equal(5, await check.Workspaces.CountAsync(w => w.Name.StartsWith("s")));
        Assert.True(await check.Workspaces.AnyAsync(w => w.Name == "plain2"));
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
