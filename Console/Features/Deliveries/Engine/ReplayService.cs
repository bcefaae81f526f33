using System.Collections.Concurrent;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Live;
using Hangfire;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>A replay of failed deliveries: how far it got. Lives in memory with the Hangfire job that runs it.</summary>
public sealed class ReplayRun
{
    public required Guid Id { get; init; }
    public required Guid WorkspaceId { get; init; }
    public required string StartedBy { get; init; }
    public required int Total { get; init; }
    public required DateTime StartedAt { get; init; }
    public int Done { get; set; }
    public bool Finished { get; set; }
    public string? Error { get; set; }
    public required Caller Caller { get; init; }
    public required DeliveryFilter Filter { get; init; }

    public double Percent => Total == 0 ? 100 : 100.0 * Done / Total;
}

/// <summary>
/// "Replay failed": every failed delivery matching the inspector's filters, resent in batches by
/// one Hangfire job, with its progress visible to the workspace's open pages.
/// </summary>
public sealed class ReplayService(DeliveryQueries queries, ResendService resend, IBackgroundJobClient jobs, DeliveryNotifier notifier, TimeProvider clock, ILogger<ReplayService> logger)
{
    private const int Batch = 200;
    private readonly ConcurrentDictionary<Guid, ReplayRun> _runs = new();

    /// <summary>How many failed deliveries a replay with <paramref name="filter"/> would resend now.</summary>
    public Task<long> CountAsync(Caller caller, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        return queries.CountNowAsync(caller, filter with { Status = DeliveryStatus.Failed }, cancellationToken);
    }

    public async Task<ReplayRun> StartAsync(Caller caller, DeliveryFilter filter, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        if (Current(caller.WorkspaceId) is { } running)
        {
            throw new Infrastructure.ConflictException($"A replay started by {running.StartedBy} is still running ({running.Done} of {running.Total}).");
        }

        var failed = filter with { Status = DeliveryStatus.Failed };
        var total = (int)Math.Min(int.MaxValue, await queries.CountNowAsync(caller, failed, cancellationToken));
        var run = new ReplayRun
        {
            Id = Guid.NewGuid(),
            WorkspaceId = caller.WorkspaceId,
            StartedBy = caller.ActorName,
            Total = total,
            StartedAt = clock.GetUtcNow().UtcDateTime,
            Caller = caller,
            Filter = failed,
        };
        _runs[run.Id] = run;
        jobs.Enqueue<ReplayJob>(j => j.RunAsync(run.Id, CancellationToken.None));
        notifier.Notify(caller.WorkspaceId);
        return run;
    }

    /// <summary>The workspace's replay in progress, if any.</summary>
    public ReplayRun? Current(Guid workspaceId) => _runs.Values.FirstOrDefault(r => r.WorkspaceId == workspaceId && !r.Finished);

    /// <summary>The workspace's most recent replay, running or finished.</summary>
    public ReplayRun? Latest(Guid workspaceId) => _runs.Values.Where(r => r.WorkspaceId == workspaceId).MaxBy(r => r.StartedAt);

    internal async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        if (!_runs.TryGetValue(runId, out var run) || run.Finished)
        {
            return;
        }

        try
        {
            // The ids are fixed when the job starts: rows that fail later are not chased.
            var ids = await queries.IdsAsync(run.WorkspaceId, run.Filter, cancellationToken);
            foreach (var chunk in ids.Chunk(Batch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                run.Done += await resend.ResendManyAsync(run.Caller, chunk, "deliveries.replayed",
                    $"replay {run.Id:N}: batch of {chunk.Length} failed deliveries", cancellationToken);
                notifier.Notify(run.WorkspaceId);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "Replay {RunId} stopped after {Done} of {Total}", run.Id, run.Done, run.Total);
            run.Error = "The replay stopped early; see the log. Deliveries already resent stay resent.";
        }
        finally
        {
            run.Finished = true;
            notifier.Notify(run.WorkspaceId);
        }
    }
}

public sealed class ReplayJob(ReplayService replay)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid runId, CancellationToken cancellationToken) => replay.RunAsync(runId, cancellationToken);
}
