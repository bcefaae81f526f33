using Bunit;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Pages;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DeliveryConsole.Tests.Features.Deliveries;

public sealed class DeliveriesInspectorTests : BunitTestBase
{
    public DeliveriesInspectorTests()
    {
        AddDeliveryServices();
        AddEndpointServices();
        Services.AddSingleton<DeliveryQueries>();
        Services.AddSingleton<FailureClusterService>();
        Services.AddSingleton<ResendService>();
        Services.AddSingleton<ReplayService>();
    }

    private async Task<Dictionary<string, (DeliveryStatus Status, string Type)>> SeedAsync()
    {
        await using var db = await DbAsync();
        var endpoint = new WebhookEndpoint { Id = Guid.NewGuid(), WorkspaceId = WorkspaceId, Scope = EndpointScope.Master, Url = "https://hooks.example.com/in", SecretProtected = "x", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        db.WebhookEndpoints.Add(endpoint);
        var seeded = new Dictionary<string, (DeliveryStatus, string)>();
        var combos = new[] { (DeliveryStatus.Failed, "call.completed"), (DeliveryStatus.Failed, "campaign.started"), (DeliveryStatus.Delivered, "call.completed"), (DeliveryStatus.Pending, "call.completed") };
        var at = DateTime.UtcNow.AddMinutes(-10);
        foreach (var (status, type) in combos.Concat(combos))
        {
            at = at.AddSeconds(5);
            var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = WorkspaceId, Type = type, Channel = "voice", PayloadJson = "{}", CreatedAt = at };
            db.Events.Add(evt);
            db.Deliveries.Add(EventService.NewDelivery(evt, endpoint, "{}", at) is var d ? Apply(d, status) : null!);
            seeded[evt.Id] = (status, type);
        }

        await db.SaveChangesAsync();
        await History.RebuildRollupsAsync(db);
        return seeded;
    }

    private static Delivery Apply(Delivery delivery, DeliveryStatus status)
    {
        delivery.Status = status;
        delivery.Attempts = status == DeliveryStatus.Pending ? 0 : 1;
        return delivery;
    }

    private IRenderedComponent<DeliveriesPage> RenderAt(string url)
    {
        Render<MudPopoverProvider>();
        Render<MudDialogProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo(url);
        return Render<DeliveriesPage>();
    }

    [Fact]
    public async Task Url_filters_reach_the_query_and_the_grid_shows_only_matching_rows()
    {
        await SignInAsync(Role.Viewer);
        var seeded = await SeedAsync();
        var page = RenderAt("/deliveries?status=failed&type=call.completed");

        var expected = seeded.Where(s => s.Value == (DeliveryStatus.Failed, "call.completed")).Select(s => s.Key).ToList();
        page.WaitForAssertion(() =>
        {
            var grid = page.Find("[data-testid='deliveries-grid']").TextContent;
            Assert.All(expected, id => Assert.Contains(id, grid));
            Assert.All(seeded.Keys.Except(expected), id => Assert.DoesNotContain(id, grid));
        });
        page.WaitForAssertion(() => Assert.Equal("2 deliveries", page.Find("[data-testid='deliveries-total']").TextContent.Trim()));
        Assert.Contains("status=failed", page.Find("[data-testid='export-csv']").GetAttribute("href"));
        Assert.Contains("type=call.completed", page.Find("[data-testid='export-csv']").GetAttribute("href"));
    }

    [Fact]
    public async Task Choosing_a_status_writes_it_into_the_url()
    {
        await SignInAsync(Role.Viewer);
        await SeedAsync();
        var page = RenderAt("/deliveries?type=call.completed");
        page.WaitForAssertion(() => Assert.Contains("6 deliveries", page.Find("[data-testid='deliveries-total']").TextContent));

        var navigation = Services.GetRequiredService<NavigationManager>();
        await page.FindAll("[data-testid='delivery-status-filter'] .mud-chip").Single(c => c.TextContent.Trim() == "delivered").ClickAsync(new());
        Assert.Contains("status=delivered", navigation.Uri);
        Assert.Contains("type=call.completed", navigation.Uri);
        page.WaitForAssertion(() => Assert.Contains("2 deliveries", page.Find("[data-testid='deliveries-total']").TextContent));
    }

    [Fact]
    public async Task A_viewer_sees_the_actions_disabled()
    {
        await SignInAsync(Role.Viewer);
        var page = RenderAt("/deliveries");
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='deliveries-empty']")));
        Assert.True(page.Find("button[data-testid='replay-failed']").HasAttribute("disabled"));
        Assert.True(page.Find("button[data-testid='resend-selected']").HasAttribute("disabled"));
    }

    [Fact]
    public void The_detail_view_escapes_a_response_body_with_a_script()
    {
        var now = DateTime.UtcNow;
        var row = new DeliveryRow(Guid.NewGuid(), "evt_1", "call.completed", "voice", DeliveryStatus.Failed, Guid.NewGuid(), EndpointScope.Master, null, null,
            "https://hooks.example.com/in", "hooks.example.com", "call_1", 1, 500, "HTTP 500", 12, now, null, now, null);
        var attempt = new AttemptView(Guid.NewGuid(), 1, AttemptTrigger.Initial, row.TargetUrl, """{"webhook-id":"evt_1"}""", "{}", 500,
            """{"content-type":"text/html"}""", "<script>alert('x')</script><img src=x onerror=alert(1)>", 56, 12, AttemptErrorClass.HttpStatus, "HTTP 500", now, now);
        var detail = new DeliveryDetail(row, """{"id":"evt_1"}""", row.TargetUrl, null, [attempt]);

        var view = Render<DeliveryDetailView>(p => p.Add(v => v.Detail, detail).Add(v => v.Now, now));

        Assert.Empty(view.FindAll("[data-testid='delivery-detail'] script"));
        Assert.Empty(view.FindAll("[data-testid='delivery-detail'] img"));
        Assert.Contains("&lt;script&gt;alert(", view.Markup);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", view.Markup);
        Assert.Contains("<script>alert('x')</script>", view.Find("[data-testid='attempt-response-body'] pre").TextContent);
    }

    [Theory]
    [InlineData("1h", null, null, -1.0, null)]
    [InlineData("24h", null, null, -24.0, null)]
    [InlineData("7d", null, null, -168.0, null)]
    [InlineData("custom", "2026-11-01", "2026-11-02", null, null)]
    [InlineData("", null, null, null, null)]
    public void Time_ranges_map_to_created_bounds(string range, string? from, string? to, double? hoursBack, string? _)
    {
        var now = new DateTime(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
        var filter = new InspectorQuery { Range = range, From = from, To = to }.ToFilter(now);
        if (hoursBack is { } hours)
        {
            Assert.Equal(now.AddHours(hours), filter.From);
            Assert.Null(filter.To);
        }
        else if (range == "custom")
        {
            Assert.Equal(new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), filter.From);
            Assert.Equal(new DateTime(2026, 11, 3, 0, 0, 0, DateTimeKind.Utc), filter.To);
        }
        else
        {
            Assert.Null(filter.From);
            Assert.Null(filter.To);
        }
    }

    [Fact]
    public void Every_filter_of_the_url_maps_to_the_service_filter()
    {
        var endpoint = Guid.NewGuid();
        var filter = new InspectorQuery { Status = "failed", Type = "call.completed", Scope = "campaign", Endpoint = endpoint.ToString(), Channel = "sms", Q = " evt_abc " }.ToFilter(DateTime.UtcNow);
        Assert.Equal(new DeliveryFilter { Status = DeliveryStatus.Failed, EventType = "call.completed", Scope = EndpointScope.Campaign, EndpointId = endpoint, Channel = "sms", Search = "evt_abc" }, filter);
        Assert.Equal(new DeliveryFilter(), new InspectorQuery { Status = "bogus", Scope = "x", Endpoint = "not-a-guid", Channel = "fax" }.ToFilter(DateTime.UtcNow));
    }
}
