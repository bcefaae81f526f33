using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class DeliveriesTests(ConsoleFixture console) : IAsyncLifetime
{
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _api = await console.Server.ApiClientAsync("admin", "e2e deliveries");
        (await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = Array.Empty<string>() })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Filtering_by_status_in_the_UI_shows_only_those_rows_and_the_detail_shows_every_attempt_escaped()
    {
        var failed = await PublishAndWaitAsync(500, "failed");
        var delivered = await PublishAndWaitAsync(200, "delivered");

        var page = await console.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };
        await console.RunAsync(page, "deliveries-filter", async () =>
        {
            await console.GotoAsync(page, "/deliveries");
            await Expect(page.GetByTestId("deliveries-grid")).ToContainTextAsync(delivered.EventId);
            await page.GetByTestId("delivery-status-filter").GetByText("failed").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("status=failed"));
            var grid = page.GetByTestId("deliveries-grid");
            await Expect(grid).ToContainTextAsync(failed.EventId);
            await Expect(grid).Not.ToContainTextAsync(delivered.EventId);
            var chips = grid.GetByTestId("delivery-status");
            Assert.True(await chips.CountAsync() >= 1);
            foreach (var text in await chips.AllTextContentsAsync())
            {
                Assert.Equal("failed", text.Trim());
            }

            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "deliveries-failed.png") });

            // The back button restores the unfiltered list.
            await page.GoBackAsync();
            await Expect(page.GetByTestId("deliveries-grid")).ToContainTextAsync(delivered.EventId);

            // Open the failed one: three attempts, each HTTP 500, the receiver's <script> shown as text.
            await page.GetByTestId("filter-search").FillAsync(failed.EventId);
            await Expect(page.GetByTestId("deliveries-grid")).Not.ToContainTextAsync(delivered.EventId);
            await page.GetByTestId("deliveries-grid").GetByText(failed.EventId).ClickAsync();
            var drawer = page.GetByTestId("delivery-detail");
            await Expect(drawer.GetByTestId("attempt")).ToHaveCountAsync(3);
            await Expect(drawer.GetByTestId("attempt-outcome").First).ToHaveTextAsync("HTTP 500");
            await Expect(drawer.GetByTestId("attempt-response-body").First).ToContainTextAsync("<script>alert('boom')</script>");
            await page.WaitForTimeoutAsync(600); // the drawer slides in
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "delivery-drawer.png") });
            Assert.Equal(0, dialogs);
        });
    }

    [Fact]
    public async Task An_operator_resends_a_failed_delivery_and_watches_it_become_delivered()
    {
        var failed = await PublishAndWaitAsync(500, "failed");
        var operatorState = await console.SignedInUserAsync("operator");
        _receiver.Status = 200;

        var page = await console.NewPageAsync(storageStatePath: operatorState);
        await console.RunAsync(page, "deliveries-resend", async () =>
        {
            await console.GotoAsync(page, $"/deliveries/{failed.DeliveryId}");
            var detail = page.GetByTestId("delivery-detail");
            await Expect(detail.GetByTestId("delivery-status").First).ToHaveTextAsync("failed");
            await page.GetByTestId("resend-delivery").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            // Live: no reload; the page follows the new attempt to delivered.
            await Expect(detail.GetByTestId("delivery-status").First).ToHaveTextAsync("delivered", new() { Timeout = 20_000 });
            await Expect(detail.GetByTestId("attempt")).ToHaveCountAsync(4);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "delivery-resent.png"), FullPage = true });
        });
    }

    [Fact]
    public async Task A_viewer_sees_resend_disabled()
    {
        var failed = await PublishAndWaitAsync(500, "failed");
        var viewerState = await console.SignedInUserAsync("viewer");

        var page = await console.NewPageAsync(storageStatePath: viewerState);
        await console.RunAsync(page, "deliveries-viewer", async () =>
        {
            await console.GotoAsync(page, $"/deliveries/{failed.DeliveryId}");
            await Expect(page.GetByTestId("resend-delivery")).ToBeDisabledAsync();
            await console.GotoAsync(page, "/deliveries");
            await Expect(page.GetByTestId("replay-failed")).ToBeDisabledAsync();
            await Expect(page.GetByTestId("resend-selected")).ToBeDisabledAsync();
        });
    }

    private sealed record Published(string EventId, Guid DeliveryId);

    private async Task<Published> PublishAndWaitAsync(int receiverStatus, string expected)
    {
        _receiver.Status = receiverStatus;
        var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { id = "call_e2e" } } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var published = new Published(body.RootElement.GetProperty("eventId").GetString()!, body.RootElement.GetProperty("deliveryIds")[0].GetGuid());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var list = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks/deliveries?limit=100"));
            var item = list.RootElement.GetProperty("items").EnumerateArray().FirstOrDefault(i => i.GetProperty("id").GetGuid() == published.DeliveryId);
            if (item.ValueKind == JsonValueKind.Object && item.GetProperty("status").GetString() == expected)
            {
                return published;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"delivery {published.DeliveryId} did not become {expected}");
    }
}
