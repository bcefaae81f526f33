using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>"One per" rules hold under racing requests: unique indexes and an upsert leave exactly one row.</summary>
public sealed class OnePerOwnerTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task Twenty_concurrent_first_time_master_webhook_saves_leave_one_endpoint_and_one_delivery_per_event()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, "race-" + Guid.NewGuid().ToString("N")[..8]);
        var clients = Enumerable.Range(0, 20).Select(_ => app.ClientWithKey(key)).ToList();
        var answered = await Task.WhenAll(clients.Select((client, i) => client.PostAsJsonAsync("/v1/webhooks", new { url = $"https://hooks{i}.example.com/in" })));
        Assert.All(answered, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = await Task.WhenAll(answered.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());

        await using (var db = await app.DbAsync())
        {
            Assert.Equal(1, await db.WebhookEndpoints.CountAsync(e => e.WorkspaceId == workspaceId && e.Scope == EndpointScope.Master && e.DeletedAt == null));
        }

        var published = await (await clients[0].PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = 1 } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, published.GetProperty("deliveryIds").GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_updates_that_set_a_finished_url_leave_one_endpoint_for_the_application()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, "race-app-" + Guid.NewGuid().ToString("N")[..8]);
        var admin = app.ClientWithKey(key);
        var application = await (await admin.PostAsJsonAsync("/v1/applications", new { name = "cdr" })).Content.ReadFromJsonAsync<JsonElement>();
        var id = application.GetProperty("id").GetString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            app.ClientWithKey(key).PatchAsJsonAsync($"/v1/applications/{id}", new { finishedUrl = $"https://cdr{i}.example.com/done" })));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        await using var db = await app.DbAsync();
        var endpoints = await db.WebhookEndpoints.Where(e => e.ApplicationId == Guid.Parse(id!) && e.DeletedAt == null).ToListAsync();
        var endpoint = Assert.Single(endpoints);
        var stored = await db.Applications.SingleAsync(a => a.Id == Guid.Parse(id!));
        Assert.Equal(endpoint.Id, stored.EndpointId);
        Assert.Equal(endpoint.Url, stored.FinishedUrl);
        Assert.Equal(workspaceId, endpoint.WorkspaceId);
    }
}
