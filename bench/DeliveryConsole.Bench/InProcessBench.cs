using System.Diagnostics;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Bench;

/// <summary>
/// Events raised inside the console's own process (as the platform's call lifecycle raises them):
/// the console hosted in this process on a fresh file, <see cref="EventService"/> called directly,
/// timed from the first publish until the receiver has every delivery.
/// </summary>
public static class InProcessBench
{
    // Any type of the console's assembly names its entry point (the bench has its own Program).
    private sealed class Host(string folder) : WebApplicationFactory<EventService>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseContentRoot(Path.Combine(Repository.Root(), "Console"));
            builder.UseSetting("Database:Path", Path.Combine(folder, "dc.db"));
            builder.UseSetting("Bootstrap:AdminPassword", "Bench-Passw0rd-1");
            builder.UseSetting("Delivery:AllowedPrivateNetworks", "127.0.0.1/32");
            builder.UseSetting("Delivery:MaxConcurrencyPerEndpoint", "64");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.DataProtection", "Error");
        }
    }

    public static async Task<double> RunAsync(string receiverUrl, int count, Func<long> received)
    {
        const int Batch = 500;
        var folder = Path.Combine(Path.GetTempPath(), $"dc-bench-inproc-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            await using var host = new Host(folder);
            _ = host.Server;
            var services = host.Services;
            var (workspace, _) = await services.GetRequiredService<WorkspaceService>().EnsureAsync("Default");
            var caller = Caller.System(workspace.Id, "bench");
            await services.GetRequiredService<WebhookService>().SaveMasterAsync(caller, receiverUrl, [], 10);
            var events = services.GetRequiredService<EventService>();

            async Task PublishAsync(int total)
            {
                var target = received() + total;
                var next = 0;
                await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
                {
                    while (true)
                    {
                        var first = Interlocked.Add(ref next, Batch) - Batch;
                        if (first >= total)
                        {
                            return;
                        }

                        var batch = Enumerable.Range(0, Math.Min(Batch, total - first))
                            .Select(_ => new NewEvent("call.completed", "voice", """{"call":{"id":"call_bench","duration":42}}""", null, null, null)).ToList();
                        await events.PublishManyAsync(caller, batch);
                    }
                }));
                var deadline = DateTime.UtcNow.AddMinutes(5);
                while (received() < target && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(5);
                }
            }

            // Untimed rounds of 3,000 until one leaves the JIT almost idle (this process: console, receiver and publishers).
            for (var round = 1; round <= 12; round++)
            {
                var jit = System.Runtime.JitInfo.GetCompilationTime();
                await PublishAsync(3000);
                await Task.Delay(1000); // background recompilation waits for a quiet moment
                if (round >= 2 && System.Runtime.JitInfo.GetCompilationTime() - jit < TimeSpan.FromMilliseconds(20))
                {
                    break;
                }
            }

            var stopwatch = Stopwatch.StartNew();
            await PublishAsync(count);
            return count / stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>The repository the benchmark runs from: the folder holding DeliveryConsole.sln above the build output.</summary>
internal static class Repository
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DeliveryConsole.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("DeliveryConsole.sln not found above " + AppContext.BaseDirectory);
    }
}
