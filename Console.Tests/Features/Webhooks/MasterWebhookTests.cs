using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Webhooks;

public sealed class MasterWebhookTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task SaveTwice_RotatesTheSecret_AndKeepsOneWebhook()
    {
        var admin = await app.ClientAsync(Role.Admin, "mw-" + Guid.NewGuid().ToString("N")[..8]);
        var first = await (await admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://a.example/hook", eventTypes = new[] { "call.completed" } })).Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://b.example/hook", contextLimit = 5 })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.StartsWith("whsec_", second.GetProperty("secret").GetString());
        Assert.NotEqual(first.GetProperty("secret").GetString(), second.GetProperty("secret").GetString());

        var current = await admin.GetFromJsonAsync<JsonElement>("/v1/webhooks");
        Assert.Equal(["contextLimit", "createdAt", "eventTypes", "id", "status", "url"], current.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("https://b.example/hook", current.GetProperty("url").GetString());
        Assert.Equal(5, current.GetProperty("contextLimit").GetInt32());
        Assert.Equal("call.completed", current.GetProperty("eventTypes")[0].GetString());
        Assert.Equal("active", current.GetProperty("status").GetString());
        Assert.EndsWith("Z", current.GetProperty("createdAt").GetString());
    }

    [Fact]
    public async Task Delete_FailsPendingDeliveries_WithEndpointDeleted_AndLeavesFinishedOnes()
    {
        var workspace = "del-" + Guid.NewGuid().ToString("N")[..8];
        var admin = await app.ClientAsync(Role.Admin, workspace);
        var created = await (await admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://a.example/hook" })).Content.ReadFromJsonAsync<JsonElement>();
        var endpointId = Guid.Parse(created.GetProperty("id").GetString()!);
        var caller = await app.SystemCallerAsync(workspace);

        var now = DateTime.UtcNow;
        await using (var db = await app.DbAsync())
        {
            db.Events.Add(new WebhookEvent { Id = "evt_" + Guid.NewGuid().ToString("N")[..24], WorkspaceId = caller.WorkspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = now });
            await db.SaveChangesAsync();
            var eventId = await db.Events.Where(e => e.WorkspaceId == caller.WorkspaceId).Select(e => e.Id).SingleAsync();
            foreach (var status in new[] { DeliveryStatus.Pending, DeliveryStatus.Pending, DeliveryStatus.Delivered })
            {
                db.Deliveries.Add(new Delivery
                {
                    Id = Guid.NewGuid(), WorkspaceId = caller.WorkspaceId, EventId = eventId, EndpointId = endpointId, EventType = "call.completed",
                    Channel = "voice", TargetUrl = "https://a.example/hook", TargetHost = "a.example", PayloadJson = "{}", Status = status,
                    NextAttemptAt = status == DeliveryStatus.Pending ? now : null, CreatedAt = now, UpdatedAt = now,
                });
            }

            await db.SaveChangesAsync();
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/webhooks")).StatusCode);
        Assert.Equal("null", await admin.GetStringAsync("/v1/webhooks"));

        await using var check = await app.DbAsync();
        var deliveries = await check.Deliveries.Where(d => d.EndpointId == endpointId).ToListAsync();
        Assert.Equal(2, deliveries.Count(d => d is { Status: DeliveryStatus.Failed, LastError: "endpoint deleted", NextAttemptAt: null }));
        Assert.Single(deliveries, d => d.Status == DeliveryStatus.Delivered && d.LastError is null);
        var endpoint = await check.WebhookEndpoints.SingleAsync(e => e.Id == endpointId);
        Assert.NotNull(endpoint.DeletedAt);
        Assert.Contains(await check.AuditEntries.Where(a => a.TargetId == endpointId.ToString()).Select(a => a.Action).ToListAsync(), a => a == "webhook.deleted");

        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/v1/webhooks")).StatusCode);
    }

    [Fact]
    public async Task EndpointSecret_IsStoredEncrypted_AndReadableForSigning()
    {
        var admin = await app.ClientAsync(Role.Admin, "sec-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await (await admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://a.example/hook" })).Content.ReadFromJsonAsync<JsonElement>();
        var secret = created.GetProperty("secret").GetString()!;
        await using var db = await app.DbAsync();
        var stored = await db.WebhookEndpoints.SingleAsync(e => e.Id == Guid.Parse(created.GetProperty("id").GetString()!));
        Assert.DoesNotContain(secret, stored.SecretProtected);
        Assert.Equal(secret, app.Service<EndpointSecrets>().Unprotect(stored.SecretProtected));
    }
}
