using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>The dense inspector as support staff use it all day: the keyboard, columns, time zone and the endpoint picker.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class InspectorTests(ConsoleFixture console) : IAsyncLifetime
{
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _api = await console.Server.ApiClientAsync("admin", "e2e inspector");
        var webhook = await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = Array.Empty<string>() });
        Assert.True(webhook.IsSuccessStatusCode, await webhook.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    private async Task<IPage> PageInParisAsync(int width = 1440, int height = 900)
    {
        var context = await console.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = console.Server.BaseUrl,
            StorageStatePath = console.AdminStatePath,
            TimezoneId = "Europe/Paris",
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    [Fact]
    public async Task The_keyboard_moves_opens_and_closes_and_columns_and_time_zone_are_remembered()
    {
        _receiver.Status = 200;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { id = $"call_kbd_{i}" } } });
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            ids.Add(body.RootElement.GetProperty("eventId").GetString()!);
        }

        var page = await PageInParisAsync();
        await console.RunAsync(page, "inspector-keyboard", async () =>
        {
            await console.GotoAsync(page, "/deliveries");
            var grid = page.GetByTestId("deliveries-grid");
            await Expect(grid).ToContainTextAsync(ids[^1]);
            await Expect(page.GetByTestId("time-zone-toggle")).ToContainTextAsync("Europe/Paris");

            // j twice: the second row; Enter opens it; Esc closes it.
            await page.Keyboard.PressAsync("j");
            await page.Keyboard.PressAsync("j");
            var cursor = grid.Locator("tr.keyboard-cursor");
            await Expect(cursor).ToHaveCountAsync(1);
            var secondId = (await cursor.Locator("td").Nth(3).TextContentAsync())!.Trim();
            await page.Keyboard.PressAsync("k");
            await page.Keyboard.PressAsync("j");
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.GetByTestId("delivery-detail")).ToContainTextAsync(secondId);
            await page.WaitForTimeoutAsync(500);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "inspector-drawer-1440.png") });
            await page.Keyboard.PressAsync("Escape");
            await Expect(page.GetByTestId("delivery-drawer")).ToHaveClassAsync(new Regex("mud-drawer--closed"));

            // / puts the cursor in the search box.
            await page.Keyboard.PressAsync("/");
            await Expect(page.GetByTestId("filter-search")).ToBeFocusedAsync();
            await page.GetByTestId("filter-search").PressAsync("Escape");
            await page.WaitForTimeoutAsync(400); // the drawer slides out
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "inspector-1440.png") });

            // Hide the event id column: remembered after a reload; then shown again.
            await page.GetByTestId("columns-menu").ClickAsync();
            await page.GetByTestId("column-event").ClickAsync();
            await page.Keyboard.PressAsync("Escape");
            await Expect(grid.GetByRole(AriaRole.Columnheader, new() { Name = "Event id" })).ToHaveCountAsync(0);
            // Times in UTC instead: remembered too.
            await page.GetByTestId("time-zone-toggle").ClickAsync();
            await Expect(page.GetByTestId("time-zone-toggle")).ToHaveTextAsync("UTC");
            await console.GotoAsync(page, "/deliveries");
            await Expect(grid.GetByRole(AriaRole.Columnheader, new() { Name = "Event type" })).ToHaveCountAsync(1);
            await Expect(grid.GetByRole(AriaRole.Columnheader, new() { Name = "Event id" })).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("time-zone-toggle")).ToHaveTextAsync("UTC");
            await page.GetByTestId("time-zone-toggle").ClickAsync();
            await Expect(page.GetByTestId("time-zone-toggle")).ToContainTextAsync("Europe/Paris");
            await page.GetByTestId("columns-menu").ClickAsync();
            await page.GetByTestId("column-event").ClickAsync();
            await page.Keyboard.PressAsync("Escape");
            await Expect(grid.GetByRole(AriaRole.Columnheader, new() { Name = "Event id" })).ToHaveCountAsync(1);

            // The endpoint picker finds an endpoint by its host and filters to it.
            var picker = page.GetByTestId("filter-endpoint");
            await picker.ClickAsync();
            await picker.FillAsync("127.0.0.1");
            await page.GetByRole(AriaRole.Option).Filter(new() { HasText = _receiver.Url }).First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("endpoint=[0-9a-f-]{36}"));
            await Expect(grid).ToContainTextAsync(ids[0]);
        });

        var phone = await PageInParisAsync(390, 844);
        await console.RunAsync(phone, "inspector-phone", async () =>
        {
            await console.GotoAsync(phone, "/deliveries");
            await Expect(phone.GetByTestId("deliveries-grid")).ToContainTextAsync(ids[^1]);
            // The filters fold behind one button; the status chips and the search stay; the first rows are on the first screen.
            await Expect(phone.GetByTestId("filter-search")).ToBeVisibleAsync();
            await Expect(phone.GetByTestId("filter-event-type")).ToBeHiddenAsync();
            var firstRow = await phone.GetByTestId("deliveries-grid").Locator("tbody tr.delivery-row").First.BoundingBoxAsync();
            Assert.True(firstRow is not null && firstRow.Y < 844, $"the first row starts at {firstRow?.Y} px, below the first screen");
            await phone.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "inspector-390.png") });
            await phone.GetByTestId("filters-toggle").ClickAsync();
            await Expect(phone.GetByTestId("filters-toggle")).ToHaveAttributeAsync("aria-expanded", "true");
            await Expect(phone.GetByTestId("filter-event-type")).ToBeVisibleAsync();
            await phone.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "inspector-390-filters.png") });
            await console.GotoAsync(phone, "/deliveries?channel=voice&range=24h");
            await Expect(phone.GetByTestId("filters-toggle")).ToContainTextAsync("Filters (2)");
        });
    }

    [Fact]
    public async Task The_attempt_viewer_copies_curl_and_the_signature_debugger_tells_a_right_signature_from_a_wrong_one()
    {
        _receiver.Status = 200;
        var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { id = "call_sig" } } });
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var deliveryId = body.RootElement.GetProperty("deliveryIds")[0].GetGuid();

        var page = await PageInParisAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await console.RunAsync(page, "attempt-viewer", async () =>
        {
            await console.GotoAsync(page, $"/deliveries/{deliveryId}");
            await Expect(page.GetByTestId("attempt-outcome").First).ToHaveTextAsync("HTTP 200", new() { Timeout = 20_000 });
            var attempt = page.GetByTestId("attempt").First;
            await Expect(attempt.GetByTestId("attempt-request-body")).ToContainTextAsync("call_sig");
            await Expect(attempt.GetByTestId("attempt-response-body")).ToBeVisibleAsync();
            await Expect(attempt.GetByTestId("payload-diff")).ToHaveCountAsync(0);

            await attempt.GetByTestId("copy-curl").ClickAsync();
            await Expect(page.GetByText("cURL command copied")).ToBeVisibleAsync();
            var curl = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
            Assert.StartsWith("curl -X POST '" + _receiver.Url + "'", curl);
            Assert.Contains("-H 'webhook-signature: v1,", curl);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "attempt-viewer-1440.png"), FullPage = true });

            await attempt.GetByTestId("check-signature").ClickAsync();
            var dialog = page.GetByTestId("signature-dialog");
            await Expect(dialog.GetByTestId("signed-string")).ToContainTextAsync("call_sig");
            await Expect(dialog.GetByTestId("secret-version")).ToContainTextAsync("current secret");
            var sent = (await dialog.GetByTestId("sent-signature").TextContentAsync())!.Trim();

            await dialog.GetByTestId("signature-input").FillAsync(sent);
            await page.GetByTestId("signature-check").ClickAsync();
            await Expect(dialog.GetByTestId("signature-verdict")).ToContainTextAsync("Matches.");

            await dialog.GetByTestId("signature-input").FillAsync("v1," + Convert.ToBase64String(new byte[32]));
            await page.GetByTestId("signature-check").ClickAsync();
            await Expect(dialog.GetByTestId("signature-verdict")).ToContainTextAsync("Wrong secret.");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "signature-debugger-1440.png") });
            await page.GetByTestId("signature-close").ClickAsync();
        });
    }

    [Fact]
    public async Task A_failure_cluster_is_shown_with_its_hint_and_replayed_once_the_receiver_is_fixed()
    {
        _receiver.Status = 503;
        var ids = new List<Guid>();
        for (var i = 0; i < 2; i++)
        {
            var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { id = $"call_cluster_{i}" } } });
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            ids.Add(body.RootElement.GetProperty("deliveryIds")[0].GetGuid());
        }

        await WaitForAsync(ids, "failed");
        var page = await PageInParisAsync();
        await console.RunAsync(page, "failure-cluster", async () =>
        {
            await console.GotoAsync(page, "/deliveries");
            var cluster = page.GetByTestId("failure-cluster").Filter(new() { HasText = "HTTP 503" });
            await Expect(cluster).ToHaveCountAsync(1);
            await Expect(cluster).ToContainTextAsync("127.0.0.1");
            await Expect(cluster).ToContainTextAsync("The receiver failed while handling it");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "failure-clusters-1440.png") });

            // Show: the inspector filtered to exactly that cluster.
            await cluster.GetByTestId("cluster-show").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("answer=503"));
            await Expect(page.GetByTestId("filter-answer")).ToBeVisibleAsync();

            // Fixed: replay the cluster; its deliveries are delivered and the cluster is gone.
            _receiver.Status = 200;
            await page.GetByTestId("failure-cluster").Filter(new() { HasText = "HTTP 503" }).GetByTestId("cluster-replay").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            await WaitForAsync(ids, "delivered");
            await Expect(page.GetByTestId("failure-cluster").Filter(new() { HasText = "HTTP 503" })).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        });
    }

    [Fact]
    public async Task A_saved_view_is_listed_in_the_navigation_and_its_link_opens_it_in_a_fresh_browser()
    {
        var page = await PageInParisAsync();
        string link = "";
        var name = "Failed calls " + Guid.NewGuid().ToString("N")[..4];
        await console.RunAsync(page, "saved-view", async () =>
        {
            await console.GotoAsync(page, "/deliveries?status=failed&type=call.completed");
            await page.GetByTestId("save-view").ClickAsync();
            await page.GetByTestId("view-name").FillAsync(name);
            await page.GetByTestId("view-save").ClickAsync();
            var nav = page.GetByTestId("nav-view").Filter(new() { HasText = name });
            await Expect(nav).ToHaveCountAsync(1);
            link = (await nav.GetAttributeAsync("href"))!;
            Assert.Matches("views/[0-9a-f-]{36}$", link);
        });

        // A fresh context (no history, no state but the sign-in): the link opens the same filters.
        var fresh = await console.NewPageAsync();
        await console.RunAsync(fresh, "saved-view-open", async () =>
        {
            await console.GotoAsync(fresh, link.StartsWith('/') ? link : "/w/default/" + link);
            await Expect(fresh).ToHaveURLAsync(new Regex("deliveries\\?status=failed&type=call.completed"));
            await Expect(fresh.GetByTestId("delivery-status-filter")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task A_payload_search_by_json_path_finds_the_deliveries_and_a_bad_one_is_explained()
    {
        _receiver.Status = 200;
        var number = "+1555" + Random.Shared.Next(1_000_000, 9_999_999);
        var wanted = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var to = i % 2 == 0 ? number : "+15550000000";
            var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { to_number = to, status = "COMPLETED" } } });
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (to == number)
            {
                wanted.Add(body.RootElement.GetProperty("eventId").GetString()!);
            }
        }

        var page = await PageInParisAsync();
        await console.RunAsync(page, "payload-search", async () =>
        {
            await console.GotoAsync(page, "/deliveries");
            var box = page.GetByTestId("filter-payload");
            await box.FillAsync($"$.data.call.to_number = {number}");
            await box.PressAsync("Enter");
            // No range was chosen: the last 24 hours, shown in the URL and the range filter.
            await Expect(page).ToHaveURLAsync(new Regex("range=24h"));
            await Expect(page).ToHaveURLAsync(new Regex("payload="));
            var rows = page.GetByTestId("deliveries-grid").Locator("tbody tr.delivery-row");
            await Expect(rows).ToHaveCountAsync(2);
            foreach (var eventId in wanted)
            {
                await Expect(page.GetByTestId("deliveries-grid")).ToContainTextAsync(eventId[..16]);
            }

            await Expect(page.GetByTestId("deliveries-total")).ToHaveTextAsync("2 deliveries");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "payload-search-1440.png") });

            // A path that is not one: said in plain words, nothing listed, nothing broken.
            await box.FillAsync("call.to_number = 1");
            await box.PressAsync("Enter");
            await Expect(page.GetByTestId("query-error")).ToContainTextAsync("not a JSON path");
            await Expect(rows).ToHaveCountAsync(0);

            // A window wider than 7 days: refused with the limit.
            await console.GotoAsync(page, "/deliveries?range=custom&from=2020-01-01&to=2020-02-01&payload=" + Uri.EscapeDataString("$.data.call.status = COMPLETED"));
            await Expect(page.GetByTestId("query-error")).ToContainTextAsync("at most 7 days");
        });
    }

    private async Task WaitForAsync(IReadOnlyList<Guid> deliveryIds, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var list = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks/deliveries?limit=100"));
            var statuses = list.RootElement.GetProperty("items").EnumerateArray()
                .Where(i => deliveryIds.Contains(i.GetProperty("id").GetGuid()))
                .Select(i => i.GetProperty("status").GetString())
                .ToList();
            if (statuses.Count == deliveryIds.Count && statuses.All(s => s == status))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the deliveries did not all become {status}");
    }
}
