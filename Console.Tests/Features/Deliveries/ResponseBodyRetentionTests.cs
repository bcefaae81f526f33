using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Response bodies go after Delivery:ResponseBodyRetention (7 days), sooner than the attempts (30 days); the rest of each attempt stays.</summary>
public sealed class ResponseBodyRetentionTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task Bodies_older_than_their_retention_go_and_everything_else_stays()
    {
        var workspace = (await app.CreateKeyAsync(DeliveryConsole.Features.Access.Role.Admin, "bodies-" + Guid.NewGuid().ToString("N")[..8])).WorkspaceId;
        var now = DateTime.UtcNow;
        var endpoint = Guid.NewGuid();
        var trimmed = new List<Guid>();
        var kept = new List<Guid>();
        await using (var db = await app.DbAsync())
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpoint, WorkspaceId = workspace, Scope = EndpointScope.Campaign, Url = "https://hooks.example.com/in", SecretProtected = "x", CreatedAt = now.AddDays(-60), UpdatedAt = now });
            for (var i = 0; i < 1_300; i++)
            {
                // 1,200 ten days old (more than two batches of 500), 100 two days old.
                var created = i < 1_200 ? now.AddDays(-10).AddMinutes(-i) : now.AddDays(-2).AddMinutes(-i);
                var id = Guid.CreateVersion7();
                var attempt = Guid.CreateVersion7();
                (i < 1_200 ? trimmed : kept).Add(attempt);
                var eventId = "evt_body" + id.ToString("N")[^16..];
                db.Events.Add(new WebhookEvent { Id = eventId, WorkspaceId = workspace, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = created });
                db.Deliveries.Add(new Delivery
                {
                    Id = id, WorkspaceId = workspace, EventId = eventId, EndpointId = endpoint, EndpointScope = EndpointScope.Campaign,
                    EventType = "call.completed", Channel = "voice", TargetUrl = "https://hooks.example.com/in", TargetHost = "hooks.example.com",
                    PayloadJson = "{}", Status = DeliveryStatus.Delivered, Attempts = 1, CreatedAt = created, UpdatedAt = created,
                });
                db.DeliveryAttempts.Add(new DeliveryAttempt
                {
                    Id = attempt, DeliveryId = id, WorkspaceId = workspace, EndpointId = endpoint, Number = 1, RequestUrl = "https://hooks.example.com/in",
                    RequestHeadersJson = "{}", RequestBody = "{}", ResponseStatus = 200, ResponseHeadersJson = """{"content-type":"text/plain"}""",
                    ResponseBody = "thanks " + i, ResponseBodySize = 12, DurationMs = 20, StartedAt = created.AddSeconds(1), CompletedAt = created.AddSeconds(2),
                });
            }

            await db.SaveChangesAsync();
        }

        Assert.Equal(0, await app.Service<RetentionJob>().RunAsync(CancellationToken.None));

        await using (var check = await app.DbAsync())
        {
            var old = await check.DeliveryAttempts.AsNoTracking().Where(a => trimmed.Contains(a.Id)).ToListAsync();
            Assert.Equal(trimmed.Count, old.Count);
            Assert.All(old, a =>
            {
                Assert.Null(a.ResponseBody);
                Assert.Equal(12, a.ResponseBodySize);
                Assert.Equal(200, a.ResponseStatus);
                Assert.NotNull(a.ResponseHeadersJson);
            });
            Assert.Equal(kept.Count, await check.DeliveryAttempts.CountAsync(a => kept.Contains(a.Id) && a.ResponseBody != null));
            Assert.True(await check.EngineMarks.AnyAsync(m => m.Name == DeliveryLedger.BodiesTrimmedMark), "the next run starts where this one stopped");
        }
    }
}
