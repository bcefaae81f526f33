using System.Collections.Concurrent;
using Hangfire;
using Hangfire.States;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A job resolved from DI, given an id; records that it ran.</summary>
public sealed class ProbeJob
{
    public static readonly ConcurrentDictionary<string, TaskCompletionSource> Runs = new();

    public void Run(string id) => Runs.GetOrAdd(id, _ => new TaskCompletionSource()).TrySetResult();
}

public sealed class BackgroundJobsTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task InProcessServer_RunsEnqueuedAndScheduledJobs_FromThisHostsStorage()
    {
        var client = app.Service<IBackgroundJobClient>();
        var nowId = "now-" + Guid.NewGuid();
        var laterId = "later-" + Guid.NewGuid();
        var now = ProbeJob.Runs.GetOrAdd(nowId, _ => new TaskCompletionSource());
        var later = ProbeJob.Runs.GetOrAdd(laterId, _ => new TaskCompletionSource());

        var jobId = client.Enqueue<ProbeJob>(j => j.Run(nowId));
        client.Schedule<ProbeJob>(j => j.Run(laterId), TimeSpan.FromSeconds(1));

        await now.Task.WaitAsync(TimeSpan.FromSeconds(15));
        // Scheduled jobs are polled every second (Jobs:SchedulePollingInterval), not Hangfire's 15 s.
        await later.Task.WaitAsync(TimeSpan.FromSeconds(8));

        var storage = app.Service<JobStorage>();
        using var connection = storage.GetConnection();
        await WaitForAsync(() => connection.GetStateData(jobId)?.Name == SucceededState.StateName, TimeSpan.FromSeconds(5));
        Assert.Equal(SucceededState.StateName, connection.GetStateData(jobId).Name);
    }

    [Fact]
    public void Every_job_gets_the_projects_retry_policy_instead_of_hangfires_ten_retries()
    {
        _ = app.Services;
        var retries = GlobalJobFilters.Filters.Select(f => f.Instance).OfType<AutomaticRetryAttribute>().ToList();
        var policy = Assert.Single(retries);
        Assert.Same(DeliveryConsole.Infrastructure.BackgroundJobs.RetryPolicy, policy);
        Assert.Equal(3, policy.Attempts);
        Assert.Equal(AttemptsExceededAction.Fail, policy.OnAttemptsExceeded);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }
}
