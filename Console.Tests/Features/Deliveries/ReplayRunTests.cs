using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Replay runs are stored as they go: progress survives a restart, and an unfinished run goes on.</summary>
public sealed class ReplayRunTests
{
    [Fact]
    public async Task A_replay_left_unfinished_by_a_stopped_process_goes_on_after_the_restart()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Respond(500);
        var first = new EngineAppFactory();
        var path = first.DatabasePath;
        var (key, workspace) = await first.CreateKeyAsync(Role.Admin, "replay-" + Guid.NewGuid().ToString("N")[..8]);
        var client = first.ClientWithKey(key);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var published = await (await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { i } })).Content.ReadFromJsonAsync<JsonElement>();
            ids.Add(Guid.Parse(published.GetProperty("deliveryIds")[0].GetString()!));
        }

        foreach (var id in ids)
        {
            Assert.Equal(DeliveryStatus.Failed, (await first.WaitForDeliveryAsync(id, d => d.Status == DeliveryStatus.Failed, TimeSpan.FromSeconds(20))).Status);
        }

        // As a process stopped mid-replay leaves it: the run stored, unfinished, nothing resent yet.
        var runId = Guid.NewGuid();
        await using (var db = await first.DbAsync())
        {
            db.ReplayRuns.Add(new ReplayRun
            {
                Id = runId, WorkspaceId = workspace, StartedBy = "Support engineer", Total = 3, StartedAt = DateTime.UtcNow,
                CallerJson = JsonSerializer.Serialize(Caller.System(workspace, "Support engineer")),
                FilterJson = JsonSerializer.Serialize(new DeliveryFilter { Status = DeliveryStatus.Failed }),
            });
            await db.SaveChangesAsync();
        }

        await first.DisposeAsyncKeepingData();
        receiver.Then(200);

        await using var restarted = EngineAppFactory.OnDatabase(path);
        _ = restarted.Server;
        foreach (var id in ids)
        {
            Assert.Equal(DeliveryStatus.Delivered, (await restarted.WaitForDeliveryAsync(id, d => d.Status == DeliveryStatus.Delivered, TimeSpan.FromSeconds(20))).Status);
        }

        ReplayRun? stored = null;
        for (var i = 0; i < 100 && stored?.Finished != true; i++)
        {
            await Task.Delay(100);
            await using var db = await restarted.DbAsync();
            stored = await db.ReplayRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }

        Assert.True(stored!.Finished);
        Assert.Equal(3, stored.Done);
        Assert.Null(stored.Error);
        var latest = restarted.Service<ReplayService>().Latest(workspace);
        Assert.Equal(runId, latest!.Id);
        await using var check = await restarted.DbAsync();
        Assert.Contains(await check.AuditEntries.Where(a => a.WorkspaceId == workspace).Select(a => a.Action).ToListAsync(), a => a == "deliveries.replayed");
    }
}
