using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>axe-core on every page of a seeded console, in the light and the dark theme: no serious or critical finding.</summary>
[Collection(SeededConsoleCollection.Name)]
public sealed class AccessibilityTests(SeededConsoleFixture console)
{
    [Theory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task Every_page_has_no_serious_or_critical_axe_finding(ColorScheme scheme)
    {
        using var api = await console.Server.ApiClientAsync("admin", "axe");
        using var deliveries = JsonDocument.Parse(await api.GetStringAsync("/v1/webhooks/deliveries?limit=1"));
        var deliveryId = deliveries.RootElement.GetProperty("items")[0].GetProperty("id").GetString();
        using var calls = JsonDocument.Parse(await api.GetStringAsync("/api/v1/calls?page_size=1"));
        var callId = calls.RootElement.GetProperty("data")[0].GetProperty("id").GetString();
        var link = await api.PostAsJsonAsync("/v1/portal-links", new { label = "Accessibility" });
        var portalUrl = new Uri((await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!).PathAndQuery;

        // A user of their own, who has never chosen a theme: the console follows the browser's.
        var user = await console.SignedInUserAsync("admin");
        var context = await console.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = console.Server.BaseUrl,
            StorageStatePath = user,
            ColorScheme = scheme,
            ViewportSize = new ViewportSize { Width = 1366, Height = 860 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var findings = new List<string>();
        await console.RunAsync(page, $"axe-{scheme}", async () =>
        {
            async Task CheckAsync(string name, string url, string ready, bool interactive = true)
            {
                if (interactive)
                {
                    await console.GotoAsync(page, url);
                    await Expect(page.GetByTestId("dark-mode-toggle")).ToHaveAttributeAsync("aria-label", scheme == ColorScheme.Dark ? "Switch to light mode" : "Switch to dark mode");
                }
                else
                {
                    await page.GotoAsync(url);
                }

                await Expect(page.Locator(ready).First).ToBeVisibleAsync();
                // Let transitions and the theme switch settle before colours are measured.
                await page.WaitForTimeoutAsync(400);
                var result = await page.RunAxe();
                foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
                {
                    findings.Add($"{name} ({scheme}): {violation.Id} [{violation.Impact}] {violation.Help}: " +
                        string.Join(" | ", violation.Nodes.Take(4).Select(n => $"{n.Target} {(n.Html.Length > 160 ? n.Html[..160] : n.Html)} {n.Any?.FirstOrDefault()?.Message ?? n.All?.FirstOrDefault()?.Message}")));
                }
            }

            await CheckAsync("dashboard", "/", "h1:has-text('Dashboard')");
            await CheckAsync("deliveries", "/deliveries", "[data-testid='deliveries-grid'] tbody tr");
            await CheckAsync("delivery", $"/deliveries/{deliveryId}", "h1:has-text('Delivery')");
            await CheckAsync("webhooks", "/webhooks", "h1:has-text('Webhooks')");
            await page.GetByTestId("webhook-open").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/webhooks/[0-9a-f-]{36}$"));
            await CheckAsync("endpoint", new Uri(page.Url).PathAndQuery, "[data-testid='endpoint-scorecard']");
            await CheckAsync("inboxes", "/inboxes", "[data-testid='inbox-link']");
            await page.GetByTestId("inbox-link").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/inboxes/[0-9a-f-]{36}$"));
            await CheckAsync("inbox", new Uri(page.Url).PathAndQuery, "[data-testid='inbox-title']");
            await CheckAsync("calls", "/calls", "h1:has-text('Calls')");
            await CheckAsync("call", $"/calls/{callId}", "h1");
            await CheckAsync("callbacks", "/callbacks", "h1:has-text('Callbacks')");
            await CheckAsync("audit", "/audit", "h1:has-text('Audit')");
            await CheckAsync("api-keys", "/settings/api-keys", "h1:has-text('API keys')");
            await CheckAsync("users", "/settings/users", "h1:has-text('Users')");
            await CheckAsync("portal-links", "/settings/portal-links", "h1:has-text('Portal links')");
            await CheckAsync("not-found", "/no-such-page", "body", interactive: false);
            await CheckAsync("portal", portalUrl, "[data-testid='portal-title']", interactive: false);
            await CheckAsync("inspector with a payload search", "/deliveries?range=7d&payload=" + Uri.EscapeDataString("$.data.call.status = COMPLETED"), "[data-testid='deliveries-grid'] tbody tr");
        });

        // Signed out: the sign-in page.
        var anonymous = await console.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = console.Server.BaseUrl, ColorScheme = scheme });
        var signIn = await anonymous.NewPageAsync();
        await signIn.GotoAsync("/account/login");
        await Expect(signIn.GetByLabel("Email")).ToBeVisibleAsync();
        var signInResult = await signIn.RunAxe();
        findings.AddRange(signInResult.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"sign-in ({scheme}): {v.Id} [{v.Impact}] {v.Help}: {string.Join(" | ", v.Nodes.Take(4).Select(n => n.Html))}"));
        await anonymous.CloseAsync();

        await File.WriteAllLinesAsync(Path.Combine(ConsoleFixture.ArtifactsFolder, $"axe-{scheme}.txt"), findings);
        Assert.True(findings.Count == 0, string.Join("\n", findings));
    }
}
