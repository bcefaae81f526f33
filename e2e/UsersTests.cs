using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class UsersTests(ConsoleFixture console)
{
    [Fact]
    public async Task Admin_AddsAnOperator_WhoSignsInWithTheGeneratedPassword()
    {
        var email = $"ops-{Guid.NewGuid():N}"[..16] + "@example.com";
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "add-user", async () =>
        {
            await console.GotoAsync(page, "/settings/users");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();
            await page.GetByTestId("create-user").ClickAsync();
            await page.GetByLabel("Email").FillAsync(email);
            await page.GetByLabel("Display name").FillAsync("Night shift");
            await page.GetByTestId("user-role").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "operator" }).ClickAsync();
            await page.GetByTestId("user-submit").ClickAsync();

            var secret = page.GetByTestId("secret-value");
            await Expect(secret).ToHaveTextAsync(new Regex("^[A-Za-z0-9]{20}$"));
            var password = (await secret.TextContentAsync())!.Trim();
            await page.GetByTestId("secret-done").ClickAsync();
            await Expect(page.GetByTestId("users-table")).ToContainTextAsync(email);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "users.png") });

            var operatorPage = await console.NewPageAsync(signedIn: false);
            await LoginPage.SignInAsync(operatorPage, email, password);
            await Expect(operatorPage.GetByText("Night shift · operator")).ToBeVisibleAsync();
            await console.GotoAsync(operatorPage, "/settings/api-keys");
            await Expect(operatorPage.GetByTestId("keys-admin-only")).ToBeVisibleAsync();
            await Expect(operatorPage.GetByTestId("create-key")).ToBeDisabledAsync();
            await operatorPage.Context.CloseAsync();

            await console.GotoAsync(page, "/audit");
            await Expect(page.GetByTestId("audit-table")).ToContainTextAsync("user.created");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "audit.png") });
        });
    }
}
