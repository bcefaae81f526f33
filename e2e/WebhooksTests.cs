using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class WebhooksTests(ConsoleFixture console) : IAsyncLifetime
{
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _api = await console.Server.ApiClientAsync("admin", "e2e webhooks");
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task An_admin_adds_a_campaign_webhook_sees_its_secret_once_tests_it_and_disables_it()
    {
        var campaignName = "E2E campaign " + Guid.NewGuid().ToString("N")[..6];
        (await _api.PostAsJsonAsync("/api/v1/campaigns", new { name = campaignName })).EnsureSuccessStatusCode();
        var url = _receiver.Url + "?campaign=" + Guid.NewGuid().ToString("N")[..8];

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "webhooks-manage", async () =>
        {
            await console.GotoAsync(page, "/webhooks");
            await page.GetByTestId("add-endpoint").ClickAsync();
            var dialog = page.GetByTestId("endpoint-dialog");
            await dialog.GetByText("Campaign webhook").ClickAsync();
            await dialog.GetByTestId("endpoint-campaign").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = campaignName }).ClickAsync();
            await dialog.GetByTestId("endpoint-url").FillAsync(url);
            await page.GetByTestId("endpoint-save").ClickAsync();

            // The signing secret, once.
            await Expect(page.GetByTestId("secret-value")).ToContainTextAsync("whsec_");
            await page.GetByTestId("secret-done").ClickAsync();
            await Expect(page.GetByTestId("secret-dialog")).ToHaveCountAsync(0);

            var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = url });
            await Expect(row).ToContainTextAsync(campaignName);
            await Expect(row.GetByTestId("webhook-status")).ToContainTextAsync("active");

            // Send test: the receiver's answer inline.
            _receiver.Status = 200;
            await row.GetByTestId("webhook-send-test").ClickAsync();
            await Expect(row.GetByTestId("webhook-test-result")).ToContainTextAsync("Test delivered: HTTP 200");

            _receiver.Status = 500;
            await row.GetByTestId("webhook-send-test").ClickAsync();
            await Expect(row.GetByTestId("webhook-test-result")).ToContainTextAsync("Test failed: HTTP 500");
            // The receiver's error body is a <script>; it is shown as text.
            await Expect(row.GetByTestId("webhook-test-result")).ToContainTextAsync("<script>");
            Assert.Equal(2, _receiver.Bodies.Count(b => b.Contains("webhook.test")));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "webhooks-test.png"), FullPage = true });

            // Disable, confirmed.
            await row.GetByTestId("webhook-actions").ClickAsync();
            await page.GetByTestId("webhook-disable").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            await Expect(row.GetByTestId("webhook-status")).ToContainTextAsync("disabled");
        });

        using var list = JsonDocument.Parse(await _api.GetStringAsync("/api/v1/campaigns"));
        var campaignId = list.RootElement.GetProperty("data").EnumerateArray().First(c => c.GetProperty("name").GetString() == campaignName).GetProperty("id").GetString();
        using var hooks = JsonDocument.Parse(await _api.GetStringAsync($"/api/v1/campaigns/{campaignId}/webhooks"));
        var hook = hooks.RootElement.GetProperty("data").EnumerateArray().Single();
        Assert.Equal(url, hook.GetProperty("url").GetString());
        Assert.Equal("disabled", hook.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_viewer_cannot_add_or_change_endpoints()
    {
        (await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url })).EnsureSuccessStatusCode();
        var viewerState = await console.SignedInUserAsync("viewer");
        var page = await console.NewPageAsync(storageStatePath: viewerState);
        await console.RunAsync(page, "webhooks-viewer", async () =>
        {
            await console.GotoAsync(page, "/webhooks");
            await Expect(page.GetByTestId("add-endpoint")).ToBeDisabledAsync();
            var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = _receiver.Url });
            await Expect(row.GetByTestId("webhook-actions").Locator("button")).ToBeDisabledAsync();
            await Expect(row.GetByTestId("webhook-send-test")).ToBeDisabledAsync();
        });
    }
}
