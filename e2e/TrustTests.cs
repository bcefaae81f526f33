using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>What a support engineer does with a mouse: signs out from the account menu; resends and replays and sees totals and rows that agree with the API.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrustTests(ConsoleFixture console) : IAsyncLifetime
{
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _api = await console.Server.ApiClientAsync("admin", "e2e trust");
        (await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        // The master webhook takes every event type again, as the other tests of this console expect.
        (await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = Array.Empty<string>() })).EnsureSuccessStatusCode();
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_mouse_user_opens_the_account_menu_and_signs_out_under_the_content_security_policy()
    {
        var page = await console.NewPageAsync(signedIn: false);
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || message.Text.Contains("Refused to", StringComparison.Ordinal))
            {
                violations.Add(message.Text);
            }
        };
        await console.RunAsync(page, "account-menu-sign-out", async () =>
        {
            var login = await page.GotoAsync("/account/login");
            AssertSecurityHeaders(await login!.AllHeadersAsync());
            await LoginPage.SignInAsync(page, ConsoleServer.AdminEmail, ConsoleServer.AdminPassword);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();

            var deliveries = await page.GotoAsync("/deliveries");
            AssertSecurityHeaders(await deliveries!.AllHeadersAsync());
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            // The console works under the policy: an interactive control answers.
            await page.GetByTestId("delivery-status-filter").GetByText("failed").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("status=failed"));

            // A mouse click, not the keyboard, opens the menu.
            await page.GetByRole(AriaRole.Button, new() { Name = "Administrator · admin, account menu" }).ClickAsync();
            var signOut = page.GetByTestId("logout");
            await Expect(signOut).ToBeVisibleAsync();
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "account-menu.png") });
            await signOut.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/account/login"));

            // Signed out for real: the console sends the browser back to sign in.
            await page.GotoAsync("/deliveries");
            await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?returnUrl=", RegexOptions.IgnoreCase));
            Assert.Empty(violations);
        });
    }

    [Fact]
    public async Task Signing_out_in_one_tab_sends_the_other_open_tab_to_sign_in_at_once()
    {
        var page = await console.NewPageAsync(signedIn: false);
        await console.RunAsync(page, "sign-out-other-tab", async () =>
        {
            await page.GotoAsync("/account/login");
            await LoginPage.SignInAsync(page, ConsoleServer.AdminEmail, ConsoleServer.AdminPassword);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

            // A second tab of the same browser (the same cookie, the same session), open on the inspector.
            var other = await page.Context.NewPageAsync();
            await other.GotoAsync("/deliveries");
            await Expect(other.Locator("[data-interactive='true']")).ToBeVisibleAsync();

            await page.GotoAsync("/calls");
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Administrator · admin, account menu" }).ClickAsync();
            await page.GetByTestId("logout").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/account/login"));

            // The other tab was not reloaded by anyone: its circuit heard that the session ended.
            await Expect(other).ToHaveURLAsync(new Regex("/account/login\\?returnUrl="), new() { Timeout = 10_000 });
            await Expect(other.GetByTestId("login-submit")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task After_a_resend_and_a_replay_the_inspectors_total_and_rows_agree_with_the_api()
    {
        // A campaign webhook of this test's own, so that other tests' deliveries stay out of the figures;
        // the workspace's master webhook takes none of these events.
        (await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = new[] { "e2e.nothing" } })).EnsureSuccessStatusCode();
        using var campaign = JsonDocument.Parse(await (await _api.PostAsJsonAsync("/api/v1/campaigns", new { name = "e2e trust" })).Content.ReadAsStringAsync());
        _campaignId = campaign.RootElement.GetProperty("data").GetProperty("id").GetString();
        using var webhook = JsonDocument.Parse(await (await _api.PostAsJsonAsync($"/api/v1/campaigns/{_campaignId}/webhooks", new { url = _receiver.Url, events = new[] { "call.completed" } })).Content.ReadAsStringAsync());
        var endpointId = webhook.RootElement.GetProperty("data").GetProperty("id").GetString();

        _receiver.Status = 500;
        var failed = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            failed.Add(await PublishAsync());
        }

        await WaitForStatusAsync(failed, "failed");
        _receiver.Status = 200;
        async Task<long> FailedNowAsync() => await CountAsync(failed, "failed");

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "inspector-totals", async () =>
        {
            await console.GotoAsync(page, $"/deliveries?status=failed&endpoint={endpointId}");
            var total = page.GetByTestId("deliveries-total");
            await Expect(total).ToHaveTextAsync(TotalText(await FailedNowAsync()));

            // Resend one from the drawer: it leaves the failed list, and the total follows.
            var grid = page.GetByTestId("deliveries-grid");
            await grid.Locator("tr.delivery-row", new() { HasText = await EventIdAsync(failed[0]) }).ClickAsync();
            await page.GetByTestId("delivery-detail").GetByTestId("resend-delivery").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            await WaitForStatusAsync([failed[0]], "delivered");
            await Expect(total).ToHaveTextAsync(TotalText(await FailedNowAsync()), new() { Timeout = 10_000 });
            await page.GetByTestId("close-detail").ClickAsync();

            // Replay every failed one: the list empties and says so, the total with it.
            await page.GetByTestId("replay-failed").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            await WaitForStatusAsync(failed, "delivered");
            await Expect(total).ToHaveTextAsync(TotalText(await FailedNowAsync()), new() { Timeout = 10_000 });
            Assert.Equal(0, await FailedNowAsync());
            await Expect(page.GetByTestId("deliveries-empty")).ToBeVisibleAsync(new() { Timeout = 10_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "inspector-after-replay.png") });

            // Without the status filter, every one of them reads delivered, as the API says.
            await page.GetByTestId("delivery-status-filter").GetByText("all").ClickAsync();
            foreach (var id in failed)
            {
                var row = grid.Locator("tr.delivery-row", new() { HasText = await EventIdAsync(id) });
                await Expect(row.GetByTestId("delivery-status")).ToHaveTextAsync("delivered", new() { Timeout = 10_000 });
            }
        });
    }

    private static void AssertSecurityHeaders(Dictionary<string, string> headers)
    {
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"]);
        Assert.Contains("script-src 'self'", headers["content-security-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("same-origin", headers["referrer-policy"]);
        Assert.Contains("camera=()", headers["permissions-policy"]);
    }

    private static string TotalText(long count) => count == 1 ? "1 delivery" : $"{count:N0} deliveries";

    private async Task<Guid> PublishAsync()
    {
        var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", campaignId = _campaignId, payload = new { call = new { id = "e2e-trust" } } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("deliveryIds")[0].GetGuid();
    }

    private string? _campaignId;

    /// <summary>How many of <paramref name="ids"/> the API reports with <paramref name="status"/>.</summary>
    private async Task<long> CountAsync(IReadOnlyCollection<Guid> ids, string status)
    {
        using var list = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks/deliveries?limit=100"));
        return list.RootElement.GetProperty("items").EnumerateArray()
            .Count(i => ids.Contains(i.GetProperty("id").GetGuid()) && i.GetProperty("status").GetString() == status);
    }

    private readonly Dictionary<Guid, string> _eventIds = [];

    private async Task<string> EventIdAsync(Guid deliveryId)
    {
        if (!_eventIds.TryGetValue(deliveryId, out var eventId))
        {
            await WaitForStatusAsync([deliveryId], null);
            eventId = _eventIds[deliveryId];
        }

        return eventId;
    }

    /// <summary>Polls the account deliveries API until every delivery has <paramref name="status"/> (any status when null).</summary>
    private async Task WaitForStatusAsync(IReadOnlyCollection<Guid> ids, string? status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (true)
        {
            using var list = JsonDocument.Parse(await _api.GetStringAsync("/v1/webhooks/deliveries?limit=100"));
            var items = list.RootElement.GetProperty("items").EnumerateArray()
                .Where(i => ids.Contains(i.GetProperty("id").GetGuid()))
                .ToList();
            foreach (var item in items)
            {
                _eventIds[item.GetProperty("id").GetGuid()] = item.GetProperty("messageId").GetString()!;
            }

            if (items.Count == ids.Count && items.All(i => status is null || i.GetProperty("status").GetString() == status))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"deliveries did not all become {status}");
            }

            await Task.Delay(200);
        }
    }
}
