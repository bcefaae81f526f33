using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>An endpoint's own page: its scorecard agrees with the stats API for it, and a test send shows on it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class EndpointPageTests(ConsoleFixture console) : IAsyncLifetime
{
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _api = await console.Server.ApiClientAsync("admin", "e2e endpoint page", "Endpoint page workspace");
        var created = await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = Array.Empty<string>() });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task The_scorecard_agrees_with_the_stats_api_and_a_test_send_shows_on_the_page()
    {
        _receiver.Status = 200;
        for (var i = 0; i < 3; i++)
        {
            (await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = i } })).EnsureSuccessStatusCode();
        }

        using var webhook = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks"));
        var endpointId = webhook.RootElement.GetProperty("id").GetString();
        JsonElement stats = default;
        for (var wait = 0; wait < 100; wait++)
        {
            stats = JsonDocument.Parse(await _api.GetStringAsync($"/v1/webhooks/deliveries/stats?hours=24&endpointId={endpointId}")).RootElement;
            if (stats.GetProperty("delivered").GetInt64() >= 3)
            {
                break;
            }

            await Task.Delay(200);
        }

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "endpoint-page", async () =>
        {
            await console.GotoAsync(page, "/w/endpoint-page-workspace/webhooks");
            await page.GetByTestId("webhook-open").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/webhooks/{endpointId}$"));
            await Expect(page.GetByTestId("endpoint-url")).ToHaveTextAsync(_receiver.Url);
            var day = page.GetByTestId("scorecard-24h");
            await Expect(day.GetByTestId("scorecard-counts")).ToContainTextAsync($"{stats.GetProperty("delivered").GetInt64()} delivered · {stats.GetProperty("failed").GetInt64()} failed");
            await Expect(day.GetByTestId("scorecard-rate")).ToHaveTextAsync($"{stats.GetProperty("successRate").GetDouble():0.##}%");
            await Expect(page.GetByTestId("endpoint-outlook")).ToContainTextAsync("Not at risk");

            await page.GetByTestId("endpoint-send-test").ClickAsync();
            await Expect(page.GetByTestId("webhook-test-outcome")).ToContainTextAsync("200", new() { Timeout = 20_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "endpoint-page-1440.png"), FullPage = true });
        });

        // Another workspace's endpoint is a 404 in the stats API.
        var other = await console.Server.ApiClientAsync("admin", "e2e other");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await other.GetAsync($"/v1/webhooks/deliveries/stats?hours=24&endpointId={endpointId}")).StatusCode);
    }

    [Fact]
    public async Task Rotating_with_a_grace_period_signs_with_both_secrets_and_the_page_says_until_when()
    {
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "endpoint-rotate", async () =>
        {
            using var webhook = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks"));
            var endpointId = webhook.RootElement.GetProperty("id").GetString();
            await console.GotoAsync(page, $"/w/endpoint-page-workspace/webhooks/{endpointId}");
            await Expect(page.GetByTestId("endpoint-secret")).ToContainTextAsync("Signing secret v");
            var before = await page.GetByTestId("endpoint-secret").InnerTextAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = "More actions" }).ClickAsync();
            await page.GetByTestId("endpoint-rotate").ClickAsync();
            await page.GetByTestId("rotate-grace-1440").ClickAsync();
            await page.GetByTestId("rotate-ok").ClickAsync();
            var secret = (await page.GetByTestId("secret-value").InnerTextAsync()).Trim();
            Assert.StartsWith("whsec_", secret);
            await page.GetByTestId("secret-done").ClickAsync();
            await Expect(page.GetByTestId("endpoint-secret")).ToContainTextAsync("also signs until");
            Assert.NotEqual(before, await page.GetByTestId("endpoint-secret").InnerTextAsync());

            await page.GetByTestId("endpoint-send-test").ClickAsync();
            await Expect(page.GetByTestId("webhook-test-outcome")).ToContainTextAsync("200", new() { Timeout = 20_000 });
            var sent = _receiver.Signed.Last();
            var signatures = sent.Signature.Split(' ');
            Assert.Equal(2, signatures.Length);
            var key = Convert.FromBase64String(secret["whsec_".Length..]);
            var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key,
                System.Text.Encoding.UTF8.GetBytes($"{sent.Id}.{sent.Timestamp}.{sent.Body}")));
            Assert.Equal(expected, signatures[0]);
        });
    }
}
