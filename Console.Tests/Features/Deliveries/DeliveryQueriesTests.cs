using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Totals counted from the rollups and host searches merged across hosts give what a plain query over the rows gives.</summary>
public sealed class DeliveryQueriesTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static readonly string[] Hosts = ["a.example", "ab.example", "b.example"];

    private async Task<(Caller Caller, Guid[] Endpoints, DateTime Now)> SeedAsync()
    {
        var random = new Random(3);
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Viewer, "q-" + Guid.NewGuid().ToString("N")[..8]);
        var now = DateTime.UtcNow;
        var endpoints = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        await using var db = await app.DbAsync();
        for (var i = 0; i < endpoints.Length; i++)
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { Id = endpoints[i], WorkspaceId = workspaceId, Scope = (EndpointScope)i, Url = $"https://{Hosts[i]}/", SecretProtected = "x", CreatedAt = now, UpdatedAt = now });
        }

        for (var i = 0; i < 400; i++)
        {
            var e = random.Next(3);
            var created = now.AddMinutes(-random.Next(0, 10 * 60)).AddTicks(-random.Next(0, 1000));
            var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = workspaceId, Type = random.Next(2) == 0 ? "call.completed" : "call.failed", Channel = "voice", PayloadJson = "{}", CreatedAt = created };
            db.Events.Add(evt);
            db.Deliveries.Add(new Delivery
            {
                Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, EventId = evt.Id, EndpointId = endpoints[e], EndpointScope = (EndpointScope)e, EventType = evt.Type,
                Channel = "voice", TargetUrl = $"https://{Hosts[e]}/", TargetHost = Hosts[e], PayloadJson = "{}", Status = (DeliveryStatus)random.Next(3),
                // Several deliveries share a timestamp, as the deliveries of one event do.
                CreatedAt = i % 5 == 0 ? now.AddHours(-2) : created, UpdatedAt = created,
            });
        }

        await db.SaveChangesAsync();
        await History.RebuildRollupsAsync(db);
        return (new Caller(workspaceId, Role.Viewer, "user", "u", "U"), endpoints, now);
    }

    [Fact]
    public async Task Totals_from_rollups_equal_counting_the_rows_for_every_countable_filter()
    {
        var (caller, endpoints, now) = await SeedAsync();
        var queries = app.Service<DeliveryQueries>();
        DeliveryFilter[] filters =
        [
            new(),
            new() { Status = DeliveryStatus.Failed },
            new() { EventType = "call.failed", Status = DeliveryStatus.Pending },
            new() { EndpointId = endpoints[1] },
            new() { Scope = EndpointScope.Campaign, Status = DeliveryStatus.Delivered },
            new() { From = now.AddHours(-3) },
            new() { From = now.AddMinutes(-200), To = now.AddMinutes(-61), Status = DeliveryStatus.Delivered },
            new() { From = now.AddMinutes(-20), To = now.AddMinutes(-10) },
            new() { To = now.AddHours(-2) },
            new() { From = now.AddHours(-2), To = now.AddHours(-2).AddTicks(1) },
        ];

        await using var db = await app.DbAsync();
        foreach (var filter in filters)
        {
            var rows = db.Deliveries.Where(d => d.WorkspaceId == caller.WorkspaceId);
            rows = filter.Status is { } s ? rows.Where(d => d.Status == s) : rows;
            rows = filter.EventType is { } t ? rows.Where(d => d.EventType == t) : rows;
            rows = filter.EndpointId is { } e ? rows.Where(d => d.EndpointId == e) : rows;
            rows = filter.Scope is { } sc ? rows.Where(d => d.EndpointScope == sc) : rows;
            rows = filter.From is { } f ? rows.Where(d => d.CreatedAt >= f) : rows;
            rows = filter.To is { } to ? rows.Where(d => d.CreatedAt < to) : rows;
            var expected = await rows.LongCountAsync();

            Assert.Equal(expected, await queries.CountAsync(caller, filter));
            Assert.Equal(expected, (await queries.PageAsync(caller, filter, DeliverySort.Newest, 0, 10)).Total);
        }
    }

    [Fact]
    public async Task A_host_prefix_matching_several_hosts_pages_in_time_order_like_one_sorted_query()
    {
        var (caller, _, _) = await SeedAsync();
        var queries = app.Service<DeliveryQueries>();
        await using var db = await app.DbAsync();
        var all = await db.Deliveries.Where(d => d.WorkspaceId == caller.WorkspaceId && (d.TargetHost == "a.example" || d.TargetHost == "ab.example"))
            .Select(d => new { d.Id, d.CreatedAt }).ToListAsync();
        var expected = all.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id.ToString("D"), StringComparer.Ordinal).Select(d => d.Id).ToList();

        var filter = new DeliveryFilter { Search = "A" };
        var pages = new List<Guid>();
        for (var offset = 0; offset < expected.Count; offset += 25)
        {
            var page = await queries.PageAsync(caller, filter, DeliverySort.Newest, offset, 25, countUpTo: 10_000);
            Assert.Equal(expected.Count, page.Total);
            pages.AddRange(page.Items.Select(i => i.Id));
        }

        Assert.Equal(expected, pages);
        Assert.All((await queries.PageAsync(caller, new DeliveryFilter { Search = "ab.ex" }, DeliverySort.Newest, 0, 500)).Items, i => Assert.Equal("ab.example", i.TargetHost));
        Assert.Empty((await queries.PageAsync(caller, new DeliveryFilter { Search = "zz" }, DeliverySort.Newest, 0, 50)).Items);
    }
}
