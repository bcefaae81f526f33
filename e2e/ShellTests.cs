using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class ShellTests(ConsoleFixture console)
{
    [Fact]
    public async Task SigningInThroughTheForm_ShowsTheDashboardShell()
    {
        var page = await console.NewPageAsync(signedIn: false);
        await console.RunAsync(page, "sign-in", async () =>
        {
            await page.GotoAsync("/");
            await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?returnUrl=%2F$", RegexOptions.IgnoreCase));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();

            await LoginPage.SignInAsync(page, ConsoleServer.AdminEmail, ConsoleServer.AdminPassword);

            await Expect(page).ToHaveURLAsync(new Regex("/$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
            var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
            foreach (var entry in new[] { "Dashboard", "Deliveries", "Callbacks", "Calls", "Webhooks", "Audit", "API keys", "Users" })
            {
                await Expect(nav.GetByRole(AriaRole.Link, new() { Name = entry, Exact = true })).ToBeVisibleAsync();
            }

            // Other tests of this console may have sent deliveries already; the empty state is a bUnit test.
            await Expect(page.GetByTestId("kpi-deliveries-value")).ToHaveTextAsync(new Regex(@"^\d[\d,]*$"));
            await Expect(page.GetByText("Administrator · admin")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "dashboard.png") });
        });
    }

    [Fact]
    public async Task The_first_Tab_reaches_a_skip_link_that_moves_past_the_navigation_into_the_main_landmark()
    {
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "skip-link", async () =>
        {
            await console.GotoAsync(page, "/deliveries");
            await Expect(page.GetByRole(AriaRole.Main)).ToHaveCountAsync(1);
            // The first thing focusable in the document (a keyboard from the top reaches it first); shown when focused.
            Assert.Equal("skip-link", await page.EvaluateAsync<string>(
                "() => document.querySelector('a[href], button, input, select, textarea, [tabindex]:not([tabindex=\"-1\"])')?.dataset.testid ?? ''"));
            await page.GetByTestId("skip-link").FocusAsync();
            await Expect(page.GetByTestId("skip-link")).ToBeInViewportAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator("#main-content")).ToBeFocusedAsync();
            // Still the same page.
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Deliveries" })).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task WrongPassword_IsRefused_WithAMessage()
    {
        var page = await console.NewPageAsync(signedIn: false);
        await console.RunAsync(page, "wrong-password", async () =>
        {
            await LoginPage.SignInAsync(page, ConsoleServer.AdminEmail, "not-the-password");
            await Expect(page.GetByTestId("login-error")).ToHaveTextAsync("The email or password is not right.");
            await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "login-error.png") });
        });
    }

    [Fact]
    public async Task Admin_CreatesAnApiKey_ThatTheApiAccepts()
    {
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "create-key", async () =>
        {
            await console.GotoAsync(page, "/settings/api-keys");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API keys" })).ToBeVisibleAsync();
            await page.GetByTestId("create-key").ClickAsync();
            await page.GetByLabel("Key name").FillAsync("QA automation");
            await page.GetByTestId("key-submit").ClickAsync();

            var secret = page.GetByTestId("secret-value");
            await Expect(secret).ToHaveTextAsync(new Regex("^dck_[0-9A-Za-z]{32}$"));
            var key = (await secret.TextContentAsync())!.Trim();
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "api-key-created.png") });
            await page.GetByTestId("secret-done").ClickAsync();
            await Expect(page.GetByTestId("keys-table")).ToContainTextAsync("QA automation");

            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            var response = await http.GetAsync($"{console.Server.BaseUrl}/v1/applications");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

            await console.GotoAsync(page, "/audit");
            await Expect(page.GetByTestId("audit-table")).ToContainTextAsync("api_key.created");
        });
    }

    [Fact]
    public async Task DarkMode_IsRemembered_AcrossSessions()
    {
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "dark-mode", async () =>
        {
            await console.GotoAsync(page, "/");
            var toggle = page.GetByTestId("dark-mode-toggle");
            await Expect(toggle).ToHaveAttributeAsync("aria-label", "Switch to dark mode");
            await toggle.ClickAsync();
            await Expect(toggle).ToHaveAttributeAsync("aria-label", "Switch to light mode");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "dashboard-dark.png") });

            var second = await console.NewPageAsync();
            await console.GotoAsync(second, "/");
            await Expect(second.GetByTestId("dark-mode-toggle")).ToHaveAttributeAsync("aria-label", "Switch to light mode");
            await second.GetByTestId("dark-mode-toggle").ClickAsync();
            await Expect(second.GetByTestId("dark-mode-toggle")).ToHaveAttributeAsync("aria-label", "Switch to dark mode");
            await second.Context.CloseAsync();
        });
    }
}
