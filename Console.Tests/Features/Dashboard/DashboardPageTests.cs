using Bunit;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Dashboard;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DeliveryConsole.Tests.Features.Dashboard;

public sealed class DashboardPageTests : BunitTestBase
{
    public DashboardPageTests()
    {
        AddDeliveryServices();
        AddEndpointServices();
        Services.AddSingleton<StatsService>();
        Services.AddSingleton<DashboardService>();
        Services.AddSingleton<DeliveryConsole.Features.Deliveries.DeliveryQueries>();
        Services.AddSingleton<DeliveryConsole.Features.Deliveries.FailureClusterService>();
        Services.AddSingleton<ResendService>();
        Services.AddSingleton<ReplayService>();
        // The callbacks and calls cards ask their services.
        AddCallServices();
    }

    private IRenderedComponent<KpiCard> Card(KpiChange change) => Render<KpiCard>(p => p
        .Add(c => c.Title, "Failed").Add(c => c.Value, "12").Add(c => c.Icon, Icons.Material.Filled.ErrorOutline)
        .Add(c => c.TestId, "kpi").Add(c => c.Change, change));

    [Theory]
    // More failures than before: up, bad.
    [InlineData(12.0, 8.0, false, "up", "false", "+50.0% vs previous 24 hours", Icons.Material.Filled.ArrowUpward)]
    // Fewer failures: down, good.
    [InlineData(6.0, 8.0, false, "down", "true", "-25.0% vs previous 24 hours", Icons.Material.Filled.ArrowDownward)]
    // More deliveries: up, neither good nor bad.
    [InlineData(120.0, 100.0, null, "up", "neutral", "+20.0% vs previous 24 hours", Icons.Material.Filled.ArrowUpward)]
    // Same as before: flat.
    [InlineData(8.0, 8.0, false, "flat", "neutral", "no change vs previous 24 hours", Icons.Material.Filled.Remove)]
    // Nothing before: "new", not a division by zero.
    [InlineData(5.0, 0.0, false, "up", "false", "new vs previous 24 hours (0)", Icons.Material.Filled.ArrowUpward)]
    public void Kpi_card_shows_the_change_with_an_arrow_its_direction_and_whether_it_is_good(double current, double previous, bool? upIsGood, string direction, string good, string text, string icon)
    {
        var card = Card(KpiChange.Relative(current, previous, upIsGood, "24 hours"));

        var change = card.Find("[data-testid='kpi-change']");
        Assert.Equal(direction, change.GetAttribute("data-direction"));
        Assert.Equal(good, change.GetAttribute("data-good"));
        Assert.Equal(text, change.QuerySelector("span")!.TextContent);
        Assert.Contains(good switch { "true" => "kpi-change-good", "false" => "kpi-change-bad", _ => "kpi-change-neutral" }, change.ClassList);
        // The arrow is MudBlazor's icon for that direction (its drawing path, as rendered).
        var shape = System.Text.RegularExpressions.Regex.Matches(icon, "d=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Single(d => !d.StartsWith("M0 0h24", StringComparison.Ordinal));
        Assert.Equal(shape, change.QuerySelector("svg path:not([fill='none'])")!.GetAttribute("d"));
    }

    [Fact]
    public void A_success_rate_changes_in_points_and_falling_is_bad()
    {
        var change = Card(KpiChange.Points(97.5, 99.0, upIsGood: true, "hour")).Find("[data-testid='kpi-change']");
        Assert.Equal(("down", "false"), (change.GetAttribute("data-direction"), change.GetAttribute("data-good")));
        Assert.Equal("-1.50 pts vs previous hour", change.QuerySelector("span")!.TextContent);
    }

    [Fact]
    public async Task An_empty_workspace_shows_zeros_and_says_what_to_do()
    {
        await SignInAsync(Role.Viewer);
        Render<MudPopoverProvider>();
        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='dashboard-empty']")));
        Assert.Contains("Webhooks", page.Find("[data-testid='dashboard-empty']").TextContent);
        Assert.Equal("0", page.Find("[data-testid='kpi-deliveries-value']").TextContent);
        Assert.Equal("—", page.Find("[data-testid='kpi-success-rate-value']").TextContent);
        Assert.Equal("no change vs previous 24 hours", page.Find("[data-testid='kpi-deliveries-change'] span").TextContent);
        Assert.Contains("No deliveries in this window", page.Find("[data-testid='dashboard-chart']").TextContent);
        Assert.Contains("No endpoints yet", page.Find("[data-testid='dashboard-endpoints']").TextContent);
    }

    [Fact]
    public async Task Figures_come_from_the_rollups_of_the_window_with_the_change_against_the_window_before()
    {
        await SignInAsync(Role.Viewer);
        var now = DateTime.UtcNow;
        var endpoint = new WebhookEndpoint { Id = Guid.NewGuid(), WorkspaceId = WorkspaceId, Scope = EndpointScope.Master, Url = "https://hooks.example.com/in", SecretProtected = "x", CreatedAt = now, UpdatedAt = now };
        await using (var db = await DbAsync())
        {
            db.WebhookEndpoints.Add(endpoint);
            // This hour: 3 delivered, 1 failed. The previous hour (the window before "1 h"): 1 delivered, 1 failed.
            var rows = new[] { (0, DeliveryStatus.Delivered), (0, DeliveryStatus.Delivered), (0, DeliveryStatus.Delivered), (0, DeliveryStatus.Failed), (-1, DeliveryStatus.Delivered), (-1, DeliveryStatus.Failed) };
            foreach (var (hour, status) in rows)
            {
                var at = StatsWindow.HourOf(now).AddHours(hour).AddSeconds(1);
                var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = WorkspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = at };
                db.Events.Add(evt);
                var delivery = EventService.NewDelivery(evt, endpoint, "{}", at);
                delivery.Status = status;
                db.Deliveries.Add(delivery);
            }

            await db.SaveChangesAsync();
            await History.RebuildRollupsAsync(db);
        }

        Render<MudPopoverProvider>();
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/?hours=1");
        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid='kpi-deliveries-value']").TextContent));
        Assert.Equal("+100.0% vs previous hour", page.Find("[data-testid='kpi-deliveries-change'] span").TextContent);
        Assert.Equal("75.00%", page.Find("[data-testid='kpi-success-rate-value']").TextContent);
        Assert.Equal("+25.00 pts vs previous hour", page.Find("[data-testid='kpi-success-rate-change'] span").TextContent);
        Assert.Equal("true", page.Find("[data-testid='kpi-success-rate-change']").GetAttribute("data-good"));
        Assert.Equal("1", page.Find("[data-testid='kpi-failed-value']").TextContent);
        Assert.Equal("flat", page.Find("[data-testid='kpi-failed-change']").GetAttribute("data-direction"));
        Assert.Equal("6", page.Find("[data-testid='all-time-total']").TextContent);
        Assert.Single(page.FindAll("[data-testid='endpoint-health-row']"));
        Assert.Empty(page.FindAll("[data-testid='dashboard-empty']"));
    }
}
