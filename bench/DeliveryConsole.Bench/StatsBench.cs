using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Live;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using DeliveryConsole.Features.Dashboard;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.AspNetCore.DataProtection;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Bench;

/// <summary>
/// The dashboard and the stats API on a large seeded file: served from the hourly rollups, timed
/// server-side and over HTTP, against the direct GROUP BY over the deliveries that they replace,
/// and checked to agree with it exactly.
/// </summary>
public static class StatsBench
{
    public static async Task<int> RunAsync(BenchDatabase database, int requests, Func<string> consoleAssembly, Func<int> freePort)
    {
        Console.WriteLine($"stats: {database.Describe()}, {requests} requests per kind, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        // The console's CLI also applies pending migrations to the file.
        var key = await BenchConsole.CreateKeyAsync(database, consoleAssembly(), "stats bench");

        await using var raw = await database.OpenRawAsync();
        var workspace = Guid.Parse((string)(await InspectorBench.Scalar(database, raw, "SELECT WorkspaceId FROM deliveries ORDER BY CreatedAt DESC LIMIT 1"))!);
        await using var provider = Services(database);
        var stats = provider.GetRequiredService<StatsService>();
        var dashboard = provider.GetRequiredService<DashboardService>();
        var caller = new Caller(workspace, Role.Viewer, "key", "bench", "bench");

        // Agreement, before the console runs (its engine may still be finishing the seed's pending
        // deliveries): the rollups against a GROUP BY over the rows of the same 7-day window.
        var window = stats.Window(168);
        var fromRollups = await stats.GetAsync(caller, window);
        var direct = await DirectAsync(database, raw, workspace, window);
        var agrees = direct.Total == fromRollups.Total && direct.Delivered == fromRollups.Delivered && direct.Failed == fromRollups.Failed && direct.Pending == fromRollups.Pending
            && direct.Series.SequenceEqual(fromRollups.Series.Select(b => (b.BucketStart.Ticks, b.Delivered, b.Failed, b.Pending)))
            && direct.Types.SequenceEqual(fromRollups.ByEventType.Select(t => (t.EventType, t.Total, t.Delivered, t.Failed)).OrderBy(t => t.EventType, StringComparer.Ordinal));
        Console.WriteLine($"7-day window {window.From:u} .. {window.To:u}: {fromRollups.Total:N0} deliveries; rollups agree exactly with GROUP BY over the rows: {(agrees ? "yes" : "NO")}");
        Console.WriteLine();

        await using var console = await BenchConsole.StartAsync(database, key, consoleAssembly(), freePort());
        var http = console.Http;
        // What the console's start-up warm-up does for its own queries, for the in-process service here.
        await dashboard.GetAsync(Caller.System(Guid.Empty), 168);

        Console.WriteLine("| kind | first request | p50 | p95 |");
        Console.WriteLine("|---|---|---|---|");
        async Task Row<T>(string name, Func<Task<T>> action, int count)
        {
            var first = await InspectorBench.TimeOnceAsync(action);
            var timed = await InspectorBench.TimeAsync(count, action);
            Console.WriteLine($"| {name} | {first:F1} ms | {timed.P50:F2} ms | {timed.P95:F2} ms |");
        }

        await Row("stats service, 1 h", () => stats.GetAsync(caller, stats.Window(1)), requests);
        await Row("stats service, 24 h", () => stats.GetAsync(caller, stats.Window(24)), requests);
        await Row("stats service, 7 d", () => stats.GetAsync(caller, stats.Window(168)), requests);
        await Row("stats service, all time", () => stats.GetAllTimeAsync(caller), requests);
        await Row("dashboard, 7 d (everything the page reads)", () => dashboard.GetAsync(caller, 168), requests);
        await Row("GET /v1/webhooks/deliveries/stats?hours=168 over HTTP", () => http.GetStringAsync("/v1/webhooks/deliveries/stats?hours=168"), requests);
        await Row("GET /v1/webhooks/deliveries/stats/all-time over HTTP", () => http.GetStringAsync("/v1/webhooks/deliveries/stats/all-time"), requests);
        await Row("reference: GROUP BY over the rows, 7 d", () => DirectAsync(database, raw, workspace, window), Math.Min(requests, 10));
        return agrees ? 0 : 1;
    }

    private static ServiceProvider Services(BenchDatabase database)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddDbContextFactory<AppDbContext>(o => o.UseConsoleDatabase(database.Options))
            .AddSingleton(TimeProvider.System)
            .AddSingleton<StatsService>()
            .AddSingleton<EndpointSecrets>()
            .AddSingleton<SsrfGuard>()
            .AddSingleton<WebhookService>()
            .AddSingleton<ApplicationService>()
            .AddSingleton<EndpointService>()
            .AddSingleton<DashboardService>()
            // The dashboard's callbacks and calls cards.
            .AddSingleton<IBackgroundJobClient>(new BackgroundJobClient(new InMemoryStorage()))
            .AddSingleton<DeliveryNotifier>()
            .AddSingleton<RecordingLinkSigner>()
            .AddSingleton<IPayloadEnricher, RecordingUrlEnricher>()
            .AddSingleton<DatabaseWriter>()
            .AddSingleton<DeliveryConsole.Features.Webhooks.EndpointDirectory>()
            .AddSingleton<DeliveryConsole.Features.Deliveries.Engine.IDeliveryWakeup, DeliveryConsole.Features.Deliveries.Engine.InProcessWakeup>()
            .AddSingleton<EventService>()
            .AddSingleton<CallLifecycle>()
            .AddSingleton<ITelephonyProvider, SimulatedTelephony>()
            .AddSingleton<CallService>()
            .AddSingleton<CallbackService>()
            .AddSingleton(Options.Create(database.Options))
            .AddSingleton<IHostApplicationLifetime, NoLifetime>();
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddOptions<DeliveryOptions>();
        services.AddOptions<TelephonyOptions>();
        return services.BuildServiceProvider();
    }

    private sealed class NoLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }

    private sealed record Direct(long Total, long Delivered, long Failed, long Pending, List<(long, long, long, long)> Series, List<(string, long, long, long)> Types);

    /// <summary>The same figures straight from the deliveries: what the dashboard would cost without rollups.</summary>
    private static async Task<Direct> DirectAsync(BenchDatabase database, DbConnection connection, Guid workspace, StatsWindow window)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = database.Sql("""
            SELECT CreatedAt - CreatedAt % 36000000000, EventType, SUM(CASE WHEN Status = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN Status = 1 THEN 1 ELSE 0 END),
                SUM(CASE WHEN Status = 2 THEN 1 ELSE 0 END), COUNT(*)
            FROM deliveries WHERE WorkspaceId = $w AND CreatedAt >= $from AND CreatedAt < $to
            GROUP BY 1, 2
            """);
        database.Parameter(command, "$w", workspace.ToString());
        database.Parameter(command, "$from", window.From.Ticks);
        database.Parameter(command, "$to", window.To.Ticks);
        var rows = new List<(long Hour, string Type, long Pending, long Delivered, long Failed, long Total)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
            }
        }

        var byHour = rows.GroupBy(r => r.Hour).ToDictionary(g => g.Key, g => (g.Sum(r => r.Delivered), g.Sum(r => r.Failed), g.Sum(r => r.Pending)));
        var series = Enumerable.Range(0, window.Hours).Select(i => window.From.AddHours(i).Ticks)
            .Select(h => byHour.TryGetValue(h, out var c) ? (h, c.Item1, c.Item2, c.Item3) : (h, 0L, 0L, 0L)).ToList();
        var types = rows.GroupBy(r => r.Type).Select(g => (g.Key, g.Sum(r => r.Total), g.Sum(r => r.Delivered), g.Sum(r => r.Failed)))
            .OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        return new Direct(rows.Sum(r => r.Total), rows.Sum(r => r.Delivered), rows.Sum(r => r.Failed), rows.Sum(r => r.Pending), series, types);
    }
}
