using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>
/// Support staff across customers: switching workspace from the app bar, opening a pasted event id
/// with Ctrl+K wherever it lives, and a customer portal link opened in a fresh browser that resends.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class WorkspacesTests(ConsoleFixture console) : IAsyncLifetime
{
    private const string Customer = "Northwind Freight";
    private WebhookReceiver _receiver = default!;
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        // A second workspace (a customer), with its own webhook and traffic.
        _api = await console.Server.ApiClientAsync("admin", "e2e northwind", Customer);
        var webhook = await _api.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url, eventTypes = Array.Empty<string>() });
        Assert.True(webhook.IsSuccessStatusCode || webhook.StatusCode == System.Net.HttpStatusCode.Conflict, await webhook.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _receiver.DisposeAsync();
    }

    private async Task<string> PublishAsync()
    {
        var response = await _api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { call = new { id = "call_e2e_northwind" } } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("eventId").GetString()!;
    }

    [Fact]
    public async Task Staff_switch_workspace_from_the_app_bar_and_open_a_pasted_event_id_with_ctrl_k()
    {
        _receiver.Status = 200;
        var eventId = await PublishAsync();
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "workspaces-switch-find", async () =>
        {
            // An old URL opens the current workspace, named in the address and the app bar.
            await console.GotoAsync(page, "/deliveries");
            await Expect(page).ToHaveURLAsync(new Regex("/w/default/deliveries$"));
            await Expect(page.GetByTestId("workspace-current")).ToHaveTextAsync("Default");

            await page.GetByTestId("workspace-switcher").ClickAsync();
            await page.GetByTestId("workspace-search").FillAsync("northw");
            await Expect(page.GetByTestId("workspace-option-default")).ToHaveCountAsync(0);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "workspace-switcher.png") });
            await page.GetByRole(AriaRole.Button, new() { Name = Customer }).Or(page.GetByTestId("workspace-option-northwind-freight")).First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/w/northwind-freight/deliveries$"));
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("workspace-current")).ToHaveTextAsync(Customer);
            await Expect(page.GetByTestId("deliveries-grid")).ToContainTextAsync(eventId);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "workspace-switched.png") });

            // Back in Default, the customer pastes an event id: Ctrl+K finds it in the other workspace and opens it there.
            await page.GetByTestId("workspace-switcher").ClickAsync();
            await page.GetByTestId("workspace-option-default").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/w/default/deliveries$"));
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await page.Keyboard.PressAsync("Control+k");
            var input = page.GetByTestId("find-input");
            await Expect(input).ToBeFocusedAsync();
            await input.FillAsync(eventId);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "find-anything.png") });
            await input.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex($"/w/northwind-freight/deliveries\\?q={eventId}$"));
            await Expect(page.GetByTestId("deliveries-grid")).ToContainTextAsync(eventId);

            // An id that exists nowhere the user may look: a plain "no match".
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await page.GetByTestId("find-open").ClickAsync();
            await page.GetByTestId("find-input").FillAsync("evt_doesnotexist000000000000");
            await page.GetByTestId("find-submit").ClickAsync();
            await Expect(page.GetByTestId("find-none")).ToBeVisibleAsync();
            await page.GetByTestId("find-cancel").ClickAsync();

            // On a phone the app bar keeps the switcher and the search, shortened.
            await page.SetViewportSizeAsync(390, 844);
            await Expect(page.GetByTestId("workspace-switcher")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("find-open")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "app-bar-phone.png") });
            await page.SetViewportSizeAsync(1366, 860);

            // The staff list of every workspace, worst first.
            await console.GotoAsync(page, "/workspaces");
            await Expect(page.GetByTestId("workspaces-table")).ToContainTextAsync(Customer);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "workspaces.png"), FullPage = true });
        });
    }

    [Fact]
    public async Task A_portal_link_opens_in_a_fresh_browser_shows_the_customers_deliveries_and_resends()
    {
        _receiver.Status = 500;
        var eventId = await PublishAsync();
        var page = await console.NewPageAsync();
        string url = "";
        await console.RunAsync(page, "portal-create", async () =>
        {
            await console.GotoAsync(page, "/w/northwind-freight/settings/portal-links");
            await page.GetByTestId("create-portal-link").ClickAsync();
            await page.GetByLabel("Label").FillAsync("Northwind ops team");
            await page.GetByTestId("portal-submit").ClickAsync();
            url = (await page.GetByTestId("secret-value").TextContentAsync())!.Trim();
            Assert.Matches("/portal/dcp_[A-Za-z0-9]{40}$", url);
            await page.GetByTestId("secret-done").ClickAsync();
            await Expect(page.GetByTestId("portal-links-table")).ToContainTextAsync("Northwind ops team");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "portal-links.png") });
        });

        var visitor = await console.NewPageAsync(signedIn: false);
        await console.RunAsync(visitor, "portal-visit", async () =>
        {
            await visitor.GotoAsync(url);
            await Expect(visitor.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await Expect(visitor.GetByTestId("portal-title")).ToHaveTextAsync($"Webhook deliveries of {Customer}");
            // Nothing of the console around it: no navigation, no account menu, no workspace switcher.
            await Expect(visitor.GetByTestId("nav-deliveries")).ToHaveCountAsync(0);
            await Expect(visitor.GetByTestId("workspace-switcher")).ToHaveCountAsync(0);
            var rows = visitor.GetByTestId("portal-deliveries");
            await Expect(rows).ToContainTextAsync(eventId, new() { Timeout = 20_000 });
            await visitor.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "portal.png"), FullPage = true });

            _receiver.Status = 200;
            await rows.GetByText(eventId).ClickAsync();
            var detail = visitor.GetByTestId("delivery-detail");
            await Expect(detail).ToBeVisibleAsync();
            await visitor.GetByTestId("resend-delivery").ClickAsync();
            await Expect(visitor.GetByText("Resent: the first attempt starts within seconds.")).ToBeVisibleAsync();
            await visitor.WaitForTimeoutAsync(600);
            await visitor.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "portal-resent.png") });
        });

        // The resend is in the workspace's audit log, done by the portal link.
        var audit = await console.NewPageAsync();
        await console.RunAsync(audit, "portal-audit", async () =>
        {
            await console.GotoAsync(audit, "/w/northwind-freight/audit");
            await Expect(audit.GetByTestId("audit-table")).ToContainTextAsync("delivery.resent");
            await Expect(audit.GetByTestId("audit-table")).ToContainTextAsync("Northwind ops team");
        });
    }

    [Fact]
    public async Task A_workspace_a_user_may_not_see_is_a_styled_404_without_its_data()
    {
        var viewerState = await console.SignedInUserAsync("viewer");
        var page = await console.NewPageAsync(storageStatePath: viewerState);
        await console.RunAsync(page, "workspace-404", async () =>
        {
            var response = await page.GotoAsync("/w/northwind-freight/deliveries");
            Assert.Equal(404, response!.Status);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "There is nothing at this address" })).ToBeVisibleAsync();
            await Expect(page.GetByText(Customer)).ToHaveCountAsync(0);
            // Its stylesheet loads under the workspace's prefix although the workspace does not.
            var stylesheet = await page.Locator("link[rel=stylesheet][href*='assets/app']").GetAttributeAsync("href");
            var css = await page.Context.APIRequest.GetAsync(new Uri(new Uri(page.Url), stylesheet).ToString());
            Assert.True(css.Status == 200, $"{css.Url} answered {css.Status}");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "workspace-404.png") });
        });
    }
}
