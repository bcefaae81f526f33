using System.Collections.Concurrent;
using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Live;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// A replay of failed deliveries: who started it, with which filter, how far it got. Stored in
/// <c>replay_runs</c> as it goes, so its progress survives a restart (the run then goes on) and
/// every page that asks sees it.
/// </summary>
public sealed class ReplayRun
{
    public required Guid Id { get; init; }
    public required Guid WorkspaceId { get; init; }
    public required string StartedBy { get; init; }
    public required int Total { get; init; }
    public required DateTime StartedAt { get; init; }
    public int Done { get; set; }
    public bool Finished { get; set; }
    public DateTime? FinishedAt { get; set; }
    public string? Error { get; set; }
    /// <summary>The caller it runs as: role, actor type, id and name (audit entries name them).</summary>
    public required string CallerJson { get; init; }
    public required string FilterJson { get; init; }

    public Caller Caller => JsonSerializer.Deserialize<Caller>(CallerJson)!;

    public DeliveryFilter Filter => JsonSerializer.Deserialize<DeliveryFilter>(FilterJson)!;

    public double Percent => Total == 0 ? 100 : 100.0 * Done / Total;
}

internal sealed class ReplayRunConfiguration : IEntityTypeConfiguration<ReplayRun>
{
    public void Configure(EntityTypeBuilder<ReplayRun> builder)
    {
        builder.ToTable("replay_runs");
        builder.Property(r => r.StartedBy).HasMaxLength(200);
        builder.Property(r => r.Error).HasMaxLength(1000);
        builder.HasIndex(r => new { r.WorkspaceId, r.StartedAt });
        builder.HasIndex(r => r.Finished);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(r => r.WorkspaceId);
    }
}

/// <summary>
/// "Replay failed": every failed delivery matching the inspector's filters, resent in batches by
/// one Hangfire job, with its progress visible to the workspace's open pages.
/// </summary>
public sealed class ReplayService(IDbContextFactory<AppDbContext> dbFactory, DeliveryQueries queries, ResendService resend, IBackgroundJobClient jobs, DeliveryNotifier notifier, TimeProvider clock, ILogger<ReplayService> logger)
{
    private const int Batch = 200;

    /// <summary>The runs as pages read them (synchronously, while rendering); the table is the record.</summary>
    private readonly ConcurrentDictionary<Guid, ReplayRun> _runs = new();

    /// <summary>
    /// At start-up: loads each workspace's latest runs, and goes on with runs a stopped process left
    /// unfinished (their Hangfire job was in memory); they resend what is still failed.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = clock.GetUtcNow().UtcDateTime.AddDays(-7);
        foreach (var run in await db.ReplayRuns.AsNoTracking().Where(r => !r.Finished || r.StartedAt >= since).ToListAsync(cancellationToken))
        {
            _runs[run.Id] = run;
            if (!run.Finished)
            {
                logger.LogInformation("Going on with replay {RunId} ({Done} of {Total} resent before the restart)", run.Id, run.Done, run.Total);
                jobs.Enqueue<ReplayJob>(j => j.RunAsync(run.Id, CancellationToken.None));
            }
        }
    }

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
            CallerJson = JsonSerializer.Serialize(caller),
            FilterJson = JsonSerializer.Serialize(failed),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.ReplayRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
        }

        _runs[run.Id] = run;
        jobs.Enqueue<ReplayJob>(j => j.RunAsync(run.Id, CancellationToken.None));
        notifier.Notify(caller.WorkspaceId);
        return run;
    }

    /// <summary>The workspace's replay in progress, if any.</summary>
    public ReplayRun? Current(Guid workspaceId) => _runs.Values.FirstOrDefault(r => r.WorkspaceId == workspaceId && !r.Finished);

    /// <summary>The workspace's most recent replay, running or finished.</summary>
    public ReplayRun? Latest(Guid workspaceId) => _runs.Values.Where(r => r.WorkspaceId == workspaceId).MaxBy(r => r.StartedAt);

    private async Task SaveProgressAsync(ReplayRun run, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.ReplayRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Done, run.Done)
            .SetProperty(r => r.Finished, run.Finished)
            .SetProperty(r => r.FinishedAt, run.FinishedAt)
            .SetProperty(r => r.Error, run.Error), cancellationToken);
    }

    internal async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        if (!_runs.TryGetValue(runId, out var run) || run.Finished)
        {
            return;
        }

        var stopped = false;
        try
        {
            // The ids are fixed when the job starts: rows that fail later are not chased.
            var caller = run.Caller;
            var ids = await queries.IdsAsync(run.WorkspaceId, run.Filter, cancellationToken);
            foreach (var chunk in ids.Chunk(Batch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                run.Done += await resend.ResendManyAsync(caller, chunk, "deliveries.replayed",
                    $"replay {run.Id:N}: batch of {chunk.Length} failed deliveries", cancellationToken);
                await SaveProgressAsync(run, CancellationToken.None);
                notifier.Notify(run.WorkspaceId);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the run stays unfinished in the table and goes on after the restart.
            stopped = true;
            throw;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Replay {RunId} stopped after {Done} of {Total}", run.Id, run.Done, run.Total);
            run.Error = "The replay stopped early; see the log. Deliveries already resent stay resent.";
        }
        finally
        {
            if (!stopped)
            {
                run.Finished = true;
                run.FinishedAt = clock.GetUtcNow().UtcDateTime;
                await SaveProgressAsync(run, CancellationToken.None);
                notifier.Notify(run.WorkspaceId);
            }
        }
    }
}

/// <summary>Loads the replay runs and goes on with unfinished ones when the console starts serving.</summary>
public sealed class ReplayResumer(ReplayService replay, ILogger<ReplayResumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await replay.ResumeAsync(stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogError(exception, "Could not load the replay runs");
        }
    }
}

public sealed class ReplayJob(ReplayService replay)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid runId, CancellationToken cancellationToken) => replay.RunAsync(runId, cancellationToken);
}
