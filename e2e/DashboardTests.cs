using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>
/// A console with a seeded week of traffic (its own process, so the shared one stays empty). No
/// private network is allowed to webhooks (the seed points every endpoint at the console's own
/// inboxes), and every outbound connection the engine opens is logged, for <see cref="DemoTests"/>.
/// </summary>
public sealed class SeededConsoleFixture : ConsoleFixture
{
    protected override string[] ServerArgs =>
        ["--Delivery:AllowedPrivateNetworks=", "--Logging:LogLevel:DeliveryConsole.Infrastructure.Delivery.SsrfGuard=Debug"];

    protected override Task SeedAsync() => Server.RunCommandAsync("seed-demo", "--deliveries", "3000");
}

[CollectionDefinition(Name)]
public sealed class SeededConsoleCollection : ICollectionFixture<SeededConsoleFixture>
{
    public const string Name = "seeded console";
}

[Collection(SeededConsoleCollection.Name)]
public sealed class DashboardTests(SeededConsoleFixture console)
{
    private sealed record Figures(string Total, string Failed, string SuccessRate, string P95, string AllTime);

    [Fact]
    public async Task The_dashboard_shows_the_same_figures_as_the_stats_api()
    {
        using var api = await console.Server.ApiClientAsync("viewer", "e2e dashboard");

        async Task<Figures> FromApiAsync()
        {
            using var stats = JsonDocument.Parse(await api.GetStringAsync("/v1/webhooks/deliveries/stats?hours=168"));
            using var allTime = JsonDocument.Parse(await api.GetStringAsync("/v1/webhooks/deliveries/stats/all-time"));
            var s = stats.RootElement;
            return new Figures(
                s.GetProperty("total").GetInt64().ToString("N0", CultureInfo.InvariantCulture),
                s.GetProperty("failed").GetInt64().ToString("N0", CultureInfo.InvariantCulture),
                s.GetProperty("successRate").GetDouble().ToString("0.00", CultureInfo.InvariantCulture) + "%",
                s.GetProperty("p95LatencyMs").GetInt32().ToString("N0", CultureInfo.InvariantCulture) + " ms",
                allTime.RootElement.GetProperty("total").GetInt64().ToString("N0", CultureInfo.InvariantCulture));
        }

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "dashboard-seeded", async () =>
        {
            // The engine is still finishing the seeded pending deliveries: compare a snapshot taken
            // while the API's figures stayed the same before and after reading the page.
            for (var attempt = 1; ; attempt++)
            {
                var before = await FromApiAsync();
                await console.GotoAsync(page, "/?hours=168");
                await page.GetByTestId("dashboard-live").UncheckAsync();
                await Expect(page.GetByTestId("kpi-deliveries-value")).Not.ToHaveTextAsync("0");
                var shown = new Figures(
                    (await page.GetByTestId("kpi-deliveries-value").TextContentAsync())!.Trim(),
                    (await page.GetByTestId("kpi-failed-value").TextContentAsync())!.Trim(),
                    (await page.GetByTestId("kpi-success-rate-value").TextContentAsync())!.Trim(),
                    (await page.GetByTestId("kpi-p95-value").TextContentAsync())!.Trim(),
                    (await page.GetByTestId("all-time-total").TextContentAsync())!.Trim());
                var after = await FromApiAsync();
                if (before == after || attempt == 10)
                {
                    Assert.Equal(before, after);
                    Assert.Equal(before, shown);
                    break;
                }

                await Task.Delay(1000);
            }

            await Expect(page.GetByTestId("dashboard-chart").Locator("svg").First).ToBeVisibleAsync();
            Assert.True(await page.GetByTestId("endpoint-health-row").CountAsync() >= 3);
            Assert.True(await page.GetByTestId("event-type-row").CountAsync() >= 3);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "dashboard-seeded.png"), FullPage = true });

            // The failed card opens the inspector on the same window: it counts the same failures.
            var failed = (await page.GetByTestId("kpi-failed-value").TextContentAsync())!.Trim();
            await page.GetByTestId("kpi-failed").GetByRole(AriaRole.Link).ClickAsync();
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("status=failed"));
            await Expect(page.GetByTestId("deliveries-total")).ToContainTextAsync(failed);
        });
    }
}
