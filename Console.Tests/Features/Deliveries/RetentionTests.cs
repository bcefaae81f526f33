using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Retention removes old finished history in batches and leaves the hourly rollups' figures as they were.</summary>
public sealed class RetentionTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task Old_finished_deliveries_go_with_their_attempts_and_events_while_the_rollups_keep_their_figures()
    {
        var workspace = (await app.CreateKeyAsync(DeliveryConsole.Features.Access.Role.Admin, "retention-" + Guid.NewGuid().ToString("N")[..8])).WorkspaceId;
        var now = DateTime.UtcNow;
        var endpoint = Guid.NewGuid();
        var old = new List<Guid>();
        var kept = new List<Guid>();
        await using (var db = await app.DbAsync())
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpoint, WorkspaceId = workspace, Scope = EndpointScope.Campaign, Url = "https://hooks.example.com/in", SecretProtected = "x", CreatedAt = now.AddDays(-60), UpdatedAt = now });
            for (var i = 0; i < 1_200; i++)
            {
                var created = i < 1_100 ? now.AddDays(-40).AddMinutes(-i) : now.AddDays(-2).AddMinutes(-i);
                var status = i == 5 ? DeliveryStatus.Pending : i % 7 == 0 ? DeliveryStatus.Failed : DeliveryStatus.Delivered;
                var id = Guid.CreateVersion7();
                (i < 1_100 && status != DeliveryStatus.Pending ? old : kept).Add(id);
                var eventId = "evt_ret" + id.ToString("N")[^16..];
                db.Events.Add(new WebhookEvent { Id = eventId, WorkspaceId = workspace, Type = i % 2 == 0 ? "call.completed" : "campaign.started", Channel = "voice", PayloadJson = "{}", CreatedAt = created });
                db.Deliveries.Add(new Delivery
                {
                    Id = id, WorkspaceId = workspace, EventId = eventId, EndpointId = endpoint, EndpointScope = EndpointScope.Campaign,
                    EventType = i % 2 == 0 ? "call.completed" : "campaign.started", Channel = "voice", TargetUrl = "https://hooks.example.com/in",
                    TargetHost = "hooks.example.com", PayloadJson = "{}", Status = status, Attempts = 1, CreatedAt = created, UpdatedAt = created,
                    NextAttemptAt = status == DeliveryStatus.Pending ? created : null,
                });
                db.DeliveryAttempts.Add(new DeliveryAttempt
                {
                    Id = Guid.CreateVersion7(), DeliveryId = id, WorkspaceId = workspace, EndpointId = endpoint, Number = 1, RequestUrl = "https://hooks.example.com/in",
                    RequestHeadersJson = "{}", RequestBody = "{}", ResponseStatus = status == DeliveryStatus.Delivered ? 200 : 500, DurationMs = 20 + i % 300,
                    StartedAt = created.AddSeconds(1), CompletedAt = created.AddSeconds(2),
                });
            }

            await db.SaveChangesAsync();
            await History.RebuildRollupsAsync(db);
        }

        var rollupsBefore = await RollupsAsync(workspace);
        var latencyBefore = await LatencyAsync(workspace);
        var removed = await app.Service<RetentionJob>().RunAsync(CancellationToken.None);

        Assert.True(removed >= old.Count, $"removed {removed}, expected at least {old.Count}");
        await using var check = await app.DbAsync();
        Assert.Equal(0, await check.Deliveries.CountAsync(d => old.Contains(d.Id)));
        Assert.Equal(kept.Count, await check.Deliveries.CountAsync(d => d.WorkspaceId == workspace));
        Assert.Equal(kept.Count, await check.DeliveryAttempts.CountAsync(a => a.WorkspaceId == workspace));
        Assert.Equal(kept.Count, await check.Events.CountAsync(e => e.WorkspaceId == workspace));
        Assert.Equal(rollupsBefore, await RollupsAsync(workspace));
        Assert.Equal(latencyBefore, await LatencyAsync(workspace));
    }

    private async Task<List<string>> RollupsAsync(Guid workspace)
    {
        await using var db = await app.DbAsync();
        return (await db.DeliveryRollups.AsNoTracking().Where(r => r.WorkspaceId == workspace).ToListAsync())
            .Select(r => $"{r.HourStart:O}|{r.EndpointId}|{r.EventType}|{r.Created}|{r.Pending}|{r.Delivered}|{r.Failed}|{r.Attempts}|{r.FailedAttempts}|{r.LatencySumMs}")
            .Order().ToList();
    }

    private async Task<List<string>> LatencyAsync(Guid workspace)
    {
        await using var db = await app.DbAsync();
        return (await db.LatencyRollups.AsNoTracking().Where(r => r.WorkspaceId == workspace).ToListAsync())
            .Select(r => $"{r.HourStart:O}|{r.EndpointId}|{r.EventType}|{r.Bucket}|{r.Count}")
            .Order().ToList();
    }
}
