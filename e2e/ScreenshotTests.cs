using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>
/// Every page of a seeded console at a desktop (1440×900) and a phone (390×844) viewport: each is
/// kept as a screenshot under e2e/artifacts/pages to be looked at, and none may be wider than the
/// screen (a table scrolls inside its card, it does not push the page sideways).
/// </summary>
[Collection(SeededConsoleCollection.Name)]
public sealed class ScreenshotTests(SeededConsoleFixture console)
{
    private static readonly (int Width, int Height)[] Viewports = [(1440, 900), (390, 844)];

    [Fact]
    public async Task Every_page_fits_its_screen_at_desktop_and_phone_width()
    {
        using var api = await console.Server.ApiClientAsync("admin", "screenshots");
        using var deliveries = JsonDocument.Parse(await api.GetStringAsync("/v1/webhooks/deliveries?limit=1"));
        var deliveryId = deliveries.RootElement.GetProperty("items")[0].GetProperty("id").GetString();
        using var calls = JsonDocument.Parse(await api.GetStringAsync("/api/v1/calls?page_size=1"));
        var callId = calls.RootElement.GetProperty("data")[0].GetProperty("id").GetString();
        var link = await api.PostAsJsonAsync("/v1/portal-links", new { label = "Acme Logistics" });
        Assert.True(link.IsSuccessStatusCode, await link.Content.ReadAsStringAsync());
        var portalUrl = new Uri((await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!).PathAndQuery;

        var folder = Path.Combine(ConsoleFixture.ArtifactsFolder, "pages");
        Directory.CreateDirectory(folder);
        var overflowing = new List<string>();
        foreach (var (width, height) in Viewports)
        {
            var context = await console.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = console.Server.BaseUrl,
                StorageStatePath = console.AdminStatePath,
                ViewportSize = new ViewportSize { Width = width, Height = height },
            });
            context.SetDefaultTimeout(20_000);
            var page = await context.NewPageAsync();
            await console.RunAsync(page, $"pages-{width}", async () =>
            {
                async Task ShootAsync(string name, string url, string ready, bool interactive = true)
                {
                    if (interactive)
                    {
                        await console.GotoAsync(page, url);
                    }
                    else
                    {
                        await page.GotoAsync(url);
                    }

                    await Expect(page.Locator(ready).First).ToBeVisibleAsync();
                    // Let live figures and charts settle before the picture.
                    await page.WaitForTimeoutAsync(600);
                    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}-{width}.png"), FullPage = true });
                    var size = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
                    if (size[0] > size[1] + 1)
                    {
                        // Name the outermost elements that stick out, to say where to look.
                        // Say where to look: the sections whose hiding brings the page back to the screen's width.
                        var culprits = await page.EvaluateAsync<string[]>("""
                            () => [...document.querySelectorAll('[data-testid]')].filter(e => e.getBoundingClientRect().height > 0).map(e => {
                                const shown = e.style.display; e.style.display = 'none';
                                const fits = document.documentElement.scrollWidth <= window.innerWidth + 1;
                                e.style.display = shown;
                                return fits ? e.dataset.testid : null;
                            }).filter(t => t)
                            """);
                        overflowing.Add($"{name} at {width}px: the page is {size[0]}px wide (hiding any of [{string.Join(", ", culprits)}] fixes it)");
                    }
                }

                await ShootAsync("dashboard", "/", "h1:has-text('Dashboard')");
                await ShootAsync("deliveries", "/deliveries", "[data-testid='deliveries-grid'] tbody tr");
                await ShootAsync("delivery", $"/deliveries/{deliveryId}", "h1:has-text('Delivery')");
                await ShootAsync("deliveries-payload-search", "/deliveries?range=7d&payload=" + Uri.EscapeDataString("$.data.call.status = COMPLETED"), "[data-testid='deliveries-grid'] tbody tr");
                await page.GetByTestId("save-view").ClickAsync();
                await page.GetByTestId("view-name").FillAsync("Completed calls this week");
                await page.GetByTestId("view-save").ClickAsync();
                await Expect(page.GetByTestId("save-view-dialog")).ToBeHiddenAsync();
                // The view's link from the navigation (rendered in the drawer, open or not), relative to the workspace's base.
                var href = await page.Locator("a[data-testid='nav-view']").First.GetAttributeAsync("href");
                var viewUrl = new Uri(new Uri(page.Url), href).PathAndQuery;
                await ShootAsync("saved-view", viewUrl, "[data-testid='deliveries-grid'] tbody tr");

                await ShootAsync("webhooks", "/webhooks", "h1:has-text('Webhooks')");
                await page.GetByTestId("webhook-open").First.ClickAsync();
                await Expect(page).ToHaveURLAsync(new Regex("/webhooks/[0-9a-f-]{36}$"));
                await ShootAsync("endpoint", new Uri(page.Url).PathAndQuery, "[data-testid='endpoint-scorecard']");
                await ShootAsync("inboxes", "/inboxes", "[data-testid='inbox-link']");
                await page.GetByRole(AriaRole.Link, new() { Name = "Acme Logistics · voice events" }).ClickAsync();
                await Expect(page).ToHaveURLAsync(new Regex("/inboxes/[0-9a-f-]{36}$"));
                await ShootAsync("inbox", new Uri(page.Url).PathAndQuery, "[data-testid='inbox-title']");
                await ShootAsync("calls", "/calls", "h1:has-text('Calls')");
                await ShootAsync("call", $"/calls/{callId}", "h1");
                await ShootAsync("callbacks", "/callbacks", "h1:has-text('Callbacks')");
                await ShootAsync("audit", "/audit", "h1:has-text('Audit')");
                await ShootAsync("api-keys", "/settings/api-keys", "h1:has-text('API keys')");
                await ShootAsync("users", "/settings/users", "h1:has-text('Users')");
                await ShootAsync("portal-links", "/settings/portal-links", "h1:has-text('Portal links')");
                await ShootAsync("workspaces", "/workspaces", "h1:has-text('workspaces')");
                await ShootAsync("portal", portalUrl, "[data-testid='portal-title']", interactive: false);
                await ShootAsync("not-found", "/no-such-page", "body", interactive: false);
            });
        }

        // Signed out: the sign-in page.
        foreach (var (width, height) in Viewports)
        {
            var page = await console.NewPageAsync(signedIn: false);
            await page.SetViewportSizeAsync(width, height);
            await console.RunAsync(page, $"login-{width}", async () =>
            {
                await page.GotoAsync("/account/login");
                await Expect(page.GetByLabel("Email")).ToBeVisibleAsync();
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"login-{width}.png"), FullPage = true });
            });
        }

        Assert.True(overflowing.Count == 0, string.Join("; ", overflowing));
    }
}
