using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Data;

/// <summary>
/// One writer for the hot write paths (publishing events, claiming and recording deliveries).
/// SQLite takes one write transaction at a time, and a connection that finds the lock taken
/// sleeps in SQLite's busy handler (1, 2, 5 … 100 ms): dozens of request threads and workers each
/// opening their own transaction spend their time asleep while the lock sits free. Instead,
/// callers hand their writes here and one loop runs whatever has queued up
/// in a single transaction, each write inside its own savepoint so one failing write fails only
/// its caller. A caller's task completes only after the transaction has committed.
/// </summary>
public sealed class DatabaseWriter : IAsyncDisposable
{
    private const int MaxBatch = 128;
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

    /// <summary>Runs <paramref name="write"/> in the next batch; the result is returned once committed.</summary>
    public Task<T> WriteAsync<T>(Func<AppDbContext, Task<T>> write)
    {
        var item = new Write<T>(write);
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(DatabaseWriter), "The database writer has stopped.");
        }

        return item.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<IWrite>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                await RunBatchAsync(batch);
            }
            catch (Exception exception)
            {
                // The transaction itself failed (begin or commit): nothing of the batch is stored.
                _logger.LogError(exception, "Database write batch of {Count} failed", batch.Count);
                foreach (var item in batch)
                {
                    item.Fail(exception);
                }
            }

            batch.Clear();
        }
    }

    private async Task RunBatchAsync(List<IWrite> batch)
    {
        await using var db = await _dbFactory.CreateDbContextAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var done = new List<IWrite>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch[i];
            var savepoint = $"w{i}";
            await transaction.CreateSavepointAsync(savepoint);
            try
            {
                await item.RunAsync(db);
                await transaction.ReleaseSavepointAsync(savepoint);
                done.Add(item);
            }
            catch (Exception exception)
            {
                await transaction.RollbackToSavepointAsync(savepoint);
                item.Fail(exception);
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }

        await transaction.CommitAsync();
        foreach (var item in done)
        {
            item.Complete();
        }
    }

    private interface IWrite
    {
        Task RunAsync(AppDbContext db);

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<AppDbContext, Task<T>> write) : IWrite
    {
        private T _result = default!;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task RunAsync(AppDbContext db) => _result = await write(db);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
