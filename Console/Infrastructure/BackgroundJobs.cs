using System.ComponentModel.DataAnnotations;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using DeliveryConsole.Data;

namespace DeliveryConsole.Infrastructure;

public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Hangfire workers in this process.</summary>
    [Range(1, 200)]
    public int WorkerCount { get; set; } = Math.Max(4, Environment.ProcessorCount * 5);

    /// <summary>How often scheduled jobs are looked at. Hangfire's default of 15 s makes retries and callbacks late.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On PostgreSQL: how long a fetched job stays invisible to other nodes without a heartbeat
    /// from the node running it, i.e. how soon a dead node's job runs elsewhere.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Hangfire executes; the database decides. Storage is in memory (nothing survives a restart
/// by design: the recurring sweeps rebuild the queue from the database at start-up).
/// </summary>
public static class BackgroundJobs
{
    public const string DashboardPolicy = "HangfireDashboard";

    /// <summary>
    /// The project's retry policy for every job that does not set its own: three more tries after
    /// 10 s, 1 min and 5 min, then the job is failed (and visible as such on the dashboard), instead
    /// of Hangfire's default of ten retries spread over hours. Jobs are safe to run again: each
    /// decides from the database (a callback dispatch claims its row first).
    /// </summary>
    public static readonly AutomaticRetryAttribute RetryPolicy = new()
    {
        Attempts = 3,
        DelaysInSeconds = [10, 60, 300],
        OnAttemptsExceeded = AttemptsExceededAction.Fail,
    };

    private static readonly object FiltersGate = new();

    /// <summary>Hangfire's global filters are process-wide: replace its default retry filter by ours, once.</summary>
    private static void UseRetryPolicy()
    {
        lock (FiltersGate)
        {
            foreach (var filter in GlobalJobFilters.Filters.Where(f => f.Instance is AutomaticRetryAttribute && !ReferenceEquals(f.Instance, RetryPolicy)).ToList())
            {
                GlobalJobFilters.Filters.Remove(filter.Instance);
            }

            if (!GlobalJobFilters.Filters.Any(f => ReferenceEquals(f.Instance, RetryPolicy)))
            {
                GlobalJobFilters.Filters.Add(RetryPolicy);
            }
        }
    }

    public static IHostApplicationBuilder AddBackgroundJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        UseRetryPolicy();

        // Each host owns its storage through DI. UseInMemoryStorage() would set the static
        // JobStorage.Current, which several hosts in one process (tests) would share and dispose.
        builder.Services.AddSingleton<JobStorage>(services =>
        {
            var database = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
            var jobs = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>().Value;
            return database.IsPostgres
                // Shared by every node: a scheduled callback or a bulk replay runs once in the cluster,
                // and the dashboard shows the cluster's jobs. Long polling starts an enqueued job in
                // milliseconds (6–7 s without); a job whose node died is fetched again after the
                // invisibility timeout (30 minutes by default), while the heartbeat of a running
                // job keeps it invisible for as long as it runs (sliding).
                ? new PostgreSqlStorage(new NpgsqlConnectionFactory(database.PostgresConnectionString, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    PrepareSchemaIfNecessary = true,
                    EnableLongPolling = true,
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = jobs.InvisibilityTimeout,
                    AllowUnsafeValues = true,
                    DistributedLockTimeout = TimeSpan.FromMinutes(1),
                })
                : new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) });
        });
        builder.Services.AddHangfire((services, configuration) => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogProvider(services.GetRequiredService<ILoggerFactory>())));

        builder.Services.AddHangfireServer((services, server) =>
        {
            var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>().Value;
            server.WorkerCount = options.WorkerCount;
            server.SchedulePollingInterval = options.SchedulePollingInterval;
            server.ServerName = $"console-{Environment.MachineName}-{Environment.ProcessId}";
            // Jobs are built from this host's services; AddHangfire's activator is a process-wide static.
            server.Activator = new AspNetCoreJobActivator(services.GetRequiredService<IServiceScopeFactory>());
        });
        return builder;
    }

    public const string DashboardPath = "/hangfire";

    /// <summary>The dashboard at /hangfire, for console admins only.</summary>
    public static IEndpointRouteBuilder MapJobsDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapHangfireDashboardWithAuthorizationPolicy(DashboardPolicy, DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Delivery Console jobs",
            AppPath = "/",
            DisplayStorageConnectionString = false,
        });
        return routes;
    }
}
