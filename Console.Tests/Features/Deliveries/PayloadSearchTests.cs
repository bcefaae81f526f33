using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Payload search by JSON path, done by the database (both providers) inside the other filters, with its cost bounded.</summary>
public sealed class PayloadSearchTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private sealed record Seeded(Caller Caller, Guid Failing, DateTime Now, Dictionary<string, Guid> Ids);

    /// <summary>Deliveries with payloads as the engine writes them (System.Text.Json escapes '+' as \u002B), one of them 10 days old.</summary>
    private async Task<Seeded> SeedAsync()
    {
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Viewer, "payload-" + Guid.NewGuid().ToString("N")[..8]);
        var now = DateTime.UtcNow;
        var ok = Guid.NewGuid();
        var failing = Guid.NewGuid();
        var ids = new Dictionary<string, Guid>();
        await using var db = await app.DbAsync();
        db.WebhookEndpoints.Add(new WebhookEndpoint { Id = ok, WorkspaceId = workspaceId, Url = "https://ok.example/", SecretProtected = "x", CreatedAt = now, UpdatedAt = now });
        db.WebhookEndpoints.Add(new WebhookEndpoint { Id = failing, WorkspaceId = workspaceId, Scope = EndpointScope.Campaign, Url = "https://bad.example/", SecretProtected = "x", CreatedAt = now, UpdatedAt = now });

        void Add(string name, object payload, TimeSpan age, Guid endpoint, DeliveryStatus status = DeliveryStatus.Delivered)
        {
            var created = now - age;
            var eventId = $"evt_{Guid.NewGuid():N}"[..28];
            var json = JsonSerializer.Serialize(payload);
            db.Events.Add(new WebhookEvent { Id = eventId, WorkspaceId = workspaceId, Type = "call.completed", Channel = "voice", PayloadJson = json, CreatedAt = created });
            var delivery = new Delivery
            {
                Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, EventId = eventId, EndpointId = endpoint, EventType = "call.completed", Channel = "voice",
                TargetUrl = "https://ok.example/", TargetHost = "ok.example", PayloadJson = json, Status = status, CreatedAt = created, UpdatedAt = created,
            };
            db.Deliveries.Add(delivery);
            ids[name] = delivery.Id;
        }

        Add("alice", new { call = new { to_number = "+15550001111", status = "COMPLETED", recorded = true, duration = 42, summary = "Asked for a Refund of order 7" }, items = new[] { new { sku = "A-1" } } }, TimeSpan.FromHours(1), ok);
        Add("bob", new { call = new { to_number = "+15550002222", status = "FAILED", recorded = false, duration = 1, summary = "No answer" }, items = new[] { new { sku = "B-2" } } }, TimeSpan.FromHours(2), failing, DeliveryStatus.Failed);
        Add("carol", new { call = new { to_number = "+15550001111", status = "COMPLETED", recorded = (bool?)null, duration = 300, summary = "100% happy_customer" } }, TimeSpan.FromHours(30), ok);
        Add("old", new { call = new { to_number = "+15550001111", status = "COMPLETED" } }, TimeSpan.FromDays(10), ok);
        Add("no-call", new { message = "test" }, TimeSpan.FromMinutes(5), ok);
        await db.SaveChangesAsync();
        await History.RebuildRollupsAsync(db);
        return new Seeded(new Caller(workspaceId, Role.Viewer, "user", "u", "U"), failing, now, ids);
    }

    private async Task<string[]> FindAsync(Seeded seeded, string payload, TimeSpan window, DeliveryFilter? more = null)
    {
        var filter = (more ?? new DeliveryFilter()) with { Payload = payload, From = seeded.Now - window };
        var page = await app.Service<DeliveryQueries>().PageAsync(seeded.Caller, filter, DeliverySort.Newest, 0, 50, countUpTo: 10_000);
        Assert.Equal(page.Items.Count, page.Total);
        return page.Items.Select(i => seeded.Ids.Single(p => p.Value == i.Id).Key).Order().ToArray();
    }

    [Fact]
    public async Task Each_operator_finds_what_the_path_holds_within_the_window_and_the_other_filters()
    {
        var seeded = await SeedAsync();
        var day = TimeSpan.FromHours(24);
        var week = TimeSpan.FromDays(7);

        // Escaped in the stored JSON (\u002B), found by its value.
        Assert.Equal(["alice"], await FindAsync(seeded, "$.call.to_number = +15550001111", day));
        Assert.Equal(["alice", "carol"], await FindAsync(seeded, "$.call.to_number = +15550001111", week));
        Assert.Equal(["alice", "carol"], await FindAsync(seeded, "$.call.status = \"COMPLETED\"", week));
        Assert.Equal(["bob", "no-call"], await FindAsync(seeded, "$.call.status != COMPLETED", week));
        Assert.Equal(["alice"], await FindAsync(seeded, "$.call.summary ~ refund", week));
        Assert.Equal(["carol"], await FindAsync(seeded, "$.call.summary ~ 100%", week));
        Assert.Equal(["carol"], await FindAsync(seeded, "$.call.summary ~ y_cust", week));
        Assert.Equal(["alice"], await FindAsync(seeded, "$.call.recorded = true", week));
        Assert.Equal(["bob"], await FindAsync(seeded, "$.call.recorded = false", week));
        Assert.Equal(["carol"], await FindAsync(seeded, "$.call.recorded = null", week));
        Assert.Equal(["alice"], await FindAsync(seeded, "$.call.duration = 42", week));
        Assert.Equal(["bob"], await FindAsync(seeded, "$.call.duration = 1", week));
        Assert.Equal(["bob"], await FindAsync(seeded, "$.items[0].sku = B-2", week));
        Assert.Equal(["bob"], await FindAsync(seeded, "$.call.to_number = +15550002222", week, new DeliveryFilter { Status = DeliveryStatus.Failed, EndpointId = seeded.Failing }));
        Assert.Empty(await FindAsync(seeded, "$.call.to_number = +15550001111", week, new DeliveryFilter { Status = DeliveryStatus.Failed }));

        // Quotes and SQL in the value are a value, nothing else.
        Assert.Empty(await FindAsync(seeded, "$.call.status = ' OR 1=1 --", week));
        Assert.Empty(await FindAsync(seeded, "$.call.status = \"; DROP TABLE deliveries; --", week));

        // Another workspace sees none of it.
        var (_, otherWorkspace) = await app.CreateKeyAsync(Role.Viewer, "payload-other-" + Guid.NewGuid().ToString("N")[..8]);
        var other = new Caller(otherWorkspace, Role.Viewer, "user", "o", "O");
        var page = await app.Service<DeliveryQueries>().PageAsync(other, new DeliveryFilter { Payload = "$.call.to_number = +15550001111", From = seeded.Now.AddDays(-7) }, DeliverySort.Newest, 0, 50);
        Assert.Empty(page.Items);
    }

    [Fact]
    public async Task Its_cost_is_bounded_a_window_is_required_and_bad_paths_are_explained()
    {
        var seeded = await SeedAsync();
        var queries = app.Service<DeliveryQueries>();
        async Task<string> RefusedAsync(DeliveryFilter filter) =>
            (await Assert.ThrowsAsync<ValidationException>(() => queries.PageAsync(seeded.Caller, filter, DeliverySort.Newest, 0, 50))).Message;

        Assert.Contains("time range of at most 7 days", await RefusedAsync(new DeliveryFilter { Payload = "$.call.status = COMPLETED" }));
        Assert.Contains("time range of at most 7 days", await RefusedAsync(new DeliveryFilter { Payload = "$.call.status = COMPLETED", From = seeded.Now.AddDays(-8) }));
        Assert.Contains("not a JSON path", await RefusedAsync(new DeliveryFilter { Payload = "call.status = COMPLETED", From = seeded.Now.AddDays(-1) }));
        Assert.Contains("not a JSON path", await RefusedAsync(new DeliveryFilter { Payload = "$.call'); DROP TABLE x; -- = 1", From = seeded.Now.AddDays(-1) }));
        Assert.Contains("an operator", await RefusedAsync(new DeliveryFilter { Payload = "$.call.status", From = seeded.Now.AddDays(-1) }));
        Assert.Contains("needs a value", await RefusedAsync(new DeliveryFilter { Payload = "$.call.status =", From = seeded.Now.AddDays(-1) }));

        // More deliveries in the window than a payload search may read: refused before reading them, with the figure.
        var limit = queries.PayloadRowLimit;
        try
        {
            queries.PayloadRowLimit = 2;
            var message = await RefusedAsync(new DeliveryFilter { Payload = "$.call.status = COMPLETED", From = seeded.Now.AddDays(-7) });
            Assert.Contains("would read 4 deliveries; it reads at most 2", message);
            // Narrowed by the endpoint, it runs.
            Assert.Equal(["bob"], await FindAsync(seeded, "$.call.status = FAILED", TimeSpan.FromDays(7), new DeliveryFilter { EndpointId = seeded.Failing }));
        }
        finally
        {
            queries.PayloadRowLimit = limit;
        }
    }
}
