using System.Data.Common;
using System.Threading.Channels;
using DeliveryConsole.Features.Stats;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace DeliveryConsole.Data;

/// <summary>
/// One writer for the hot write paths (publishing events, claiming and recording deliveries).
/// SQLite takes one write transaction at a time, and a connection that finds the lock taken
/// sleeps in SQLite's busy handler (1, 2, 5 … 100 ms): dozens of request threads and workers each
/// opening their own transaction spend their time asleep while the lock sits free. Instead,
/// callers hand their writes here and one loop runs whatever has queued up in a single
/// transaction (group commit): all together first, the items of each <see cref="IWriteKind{TItem}"/>
/// in one set-based call; when any write fails, the batch is rolled back and replayed one write
/// at a time, each inside its own savepoint, so one failing write fails only its caller.
/// A caller's task completes only after the transaction has committed.
/// The loop keeps one context and its connection open for its lifetime, so the statements the
/// typed operations prepare (<see cref="RawSql.Prepared"/>) are parsed once, not per write.
/// </summary>
public sealed class DatabaseWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private const int MaxAttempts = 3;
    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IDbContextFactory<AppDbContext> _dbFactory;
    private readonly ILogger<DatabaseWriter> _logger;
    private readonly Task _loop;

    public DatabaseWriter(IDbContextFactory<AppDbContext> dbFactory, ILogger<DatabaseWriter> logger)
    {
        _dbFactory = dbFactory;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    private long _batches;
    private long _writes;
    private long _replays;

    /// <summary>Batches run (transactions), writes in them, and batches replayed one write at a time, since the process started.</summary>
    public (long Batches, long Writes, long Replays) Figures => (Interlocked.Read(ref _batches), Interlocked.Read(ref _writes), Interlocked.Read(ref _replays));

    /// <summary>Runs <paramref name="write"/> in the next batch; the result is returned once committed.</summary>
    public Task<T> WriteAsync<T>(Func<AppDbContext, Task<T>> write)
    {
        var item = new Write<T>(write);
        Enqueue(item);
        return item.Completion.Task;
    }

    /// <summary>Writes <paramref name="item"/> with the others of its <paramref name="kind"/> in the next batch; completes once committed.</summary>
    public Task WriteAsync<TItem>(IWriteKind<TItem> kind, TItem item)
    {
        var write = new KindWrite<TItem>(kind, item);
        Enqueue(write);
        return write.Completion.Task;
    }

    private void Enqueue(IWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(DatabaseWriter), "The database writer has stopped.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<IWrite>(MaxBatch);
        AppDbContext? db = null;
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                try
                {
                    db ??= await OpenAsync();
                    await RunBatchAsync(db, batch);
                }
                catch (Exception exception)
                {
                    // The transaction itself failed (begin or commit): nothing of the batch is stored.
                    // The connection may be unusable: the next batch starts on a fresh one.
                    _logger.LogError(exception, "Database write batch of {Count} failed", batch.Count);
                    foreach (var item in batch)
                    {
                        item.Fail(exception);
                    }

                    if (db is not null)
                    {
                        await db.DisposeAsync();
                        db = null;
                    }
                }

                batch.Clear();
            }
        }
        finally
        {
            if (db is not null)
            {
                await db.DisposeAsync();
            }
        }
    }

    private async Task<AppDbContext> OpenAsync()
    {
        var db = await _dbFactory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        // Every write already runs in its own savepoint; EF's own per-SaveChanges savepoints would be two more statements each.
        db.Database.AutoSavepointsEnabled = false;
        // Pages read through the memory mapping are parsed again at every touch; the page cache keeps
        // them parsed. For the writer, which touches the same hot pages thousands of times a second,
        // that was the larger cost (measured: ~40% more single-event deliveries/s without the mapping).
        if (!db.IsPostgres())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA mmap_size=0");
        }

        return db;
    }

    /// <summary>
    /// Runs a batch in one transaction. First all together, without a savepoint per write (on
    /// PostgreSQL each savepoint and its release are round trips to the server), the items of each
    /// <see cref="IWriteKind{TItem}"/> in one call; if anything fails, that transaction is rolled
    /// back and the batch runs again one write at a time, each in its own savepoint, so only the
    /// bad write fails.
    /// </summary>
    private async Task RunBatchAsync(AppDbContext db, List<IWrite> batch)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _writes, batch.Count);
        if (!await TryRunTogetherAsync(db, batch))
        {
            Interlocked.Increment(ref _replays);
            await RunOneByOneAsync(db, batch);
        }
    }

    private static async Task<bool> TryRunTogetherAsync(AppDbContext db, List<IWrite> batch)
    {
        var transaction = await db.Database.BeginTransactionAsync();
        var rollups = new RollupChanges();
        RollupChanges.DeferWrites(db, rollups);
        try
        {
            var kindsRun = new HashSet<object>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Kind is not { } kind)
                {
                    await batch[i].RunAsync(db);
                }
                else if (kindsRun.Add(kind))
                {
                    // Every write of this kind in the batch, at the place of the first.
                    await batch[i].RunAllAsync(db, batch.Skip(i).Where(w => ReferenceEquals(w.Kind, kind)).ToList());
                }

                db.ChangeTracker.Clear();
            }
        }
        catch
        {
            db.ChangeTracker.Clear();
            RollupChanges.DeferWrites(db, null);
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            return false;
        }

        RollupChanges.DeferWrites(db, null);
        await using (transaction)
        {
            await rollups.ApplyAsync(db);
            await transaction.CommitAsync();
        }

        foreach (var item in batch)
        {
            item.Complete();
        }

        return true;
    }

    private static async Task RunOneByOneAsync(AppDbContext db, List<IWrite> batch)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        var sqlTransaction = transaction.GetDbTransaction();
        var savepoint = RawSql.Prepared(db, "SAVEPOINT w");
        var release = RawSql.Prepared(db, "RELEASE w");
        var rollback = RawSql.Prepared(db, "ROLLBACK TO w; RELEASE w");
        var done = new List<IWrite>(batch.Count);
        // The rollup changes of every write are added up and written once, before the commit.
        var writeRollups = new RollupChanges();
        var batchRollups = new RollupChanges();
        RollupChanges.DeferWrites(db, writeRollups);
        try
        {
            foreach (var item in batch)
            {
                for (var attempt = 1; ; attempt++)
                {
                    await savepoint.ExecuteNonQueryAsync();
                    try
                    {
                        await item.RunAsync(db);
                        await release.ExecuteNonQueryAsync();
                        batchRollups.Add(writeRollups);
                        done.Add(item);
                        break;
                    }
                    catch (Exception exception)
                    {
                        await rollback.ExecuteNonQueryAsync();
                        if (attempt < MaxAttempts && IsTransient(exception))
                        {
                            // PostgreSQL chose this write to break a deadlock with another node's
                            // transaction: its own changes are undone, so it runs again.
                            continue;
                        }

                        item.Fail(exception);
                        break;
                    }
                    finally
                    {
                        writeRollups.Clear();
                        db.ChangeTracker.Clear();
                    }
                }
            }
        }
        finally
        {
            RollupChanges.DeferWrites(db, null);
        }

        await batchRollups.ApplyAsync(db);
        await sqlTransaction.CommitAsync();
        foreach (var item in done)
        {
            item.Complete();
        }
    }

    /// <summary>A deadlock or serialization failure (PostgreSQL, several nodes): the write may simply run again.</summary>
    private static bool IsTransient(Exception exception) =>
        (exception as DbException ?? exception.InnerException as DbException)?.SqlState is "40P01" or "40001";

    private interface IWrite
    {
        /// <summary>The <see cref="IWriteKind{TItem}"/> this write's item is of (null: a write of its own).</summary>
        object? Kind { get; }

        Task RunAsync(AppDbContext db);

        /// <summary>Runs <paramref name="writes"/> (this one first, all of its kind) in one call.</summary>
        Task RunAllAsync(AppDbContext db, List<IWrite> writes);

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<AppDbContext, Task<T>> write) : IWrite
    {
        private T _result = default!;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object? Kind => null;

        public async Task RunAsync(AppDbContext db) => _result = await write(db);

        public Task RunAllAsync(AppDbContext db, List<IWrite> writes) => RunAsync(db);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }

    private sealed class KindWrite<TItem>(IWriteKind<TItem> kind, TItem item) : IWrite
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object? Kind => kind;

        public Task RunAsync(AppDbContext db) => kind.WriteAsync(db, [item]);

        public Task RunAllAsync(AppDbContext db, List<IWrite> writes) =>
            kind.WriteAsync(db, writes.Select(w => ((KindWrite<TItem>)w).Item).ToList());

        private TItem Item => item;

        public void Complete() => Completion.TrySetResult();

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}

/// <summary>
/// A kind of write the writer runs once for all of its items in a batch (one set-based statement
/// per table, not one per write): publishing is one. Kinds are told apart by reference, so each
/// is one shared instance. <see cref="WriteAsync"/> must also be right for a single item: the
/// writer runs the items one by one when a batch has to be replayed.
/// </summary>
public interface IWriteKind<TItem>
{
    Task WriteAsync(AppDbContext db, IReadOnlyList<TItem> items);
}
