using Microsoft.Playwright;

namespace DeliveryConsole.E2E;

/// <summary>
/// One console process and one Debian chromium for the whole e2e run. The admin signs in once
/// through the real form; tests reuse that storage state.
/// </summary>
public class ConsoleFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private IPlaywright? _playwright;

    public ConsoleServer Server { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    public string AdminStatePath { get; private set; } = "";

    public static string ArtifactsFolder
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeliveryConsole.sln")))
            {
                dir = dir.Parent;
            }

            var path = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "e2e", "artifacts");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public async Task InitializeAsync()
    {
        Server = await ConsoleServer.StartAsync(ServerArgs);
        await SeedAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });

        AdminStatePath = Path.Combine(Server.DataFolder, "admin-state.json");
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.BaseUrl });
        var page = await context.NewPageAsync();
        await LoginPage.SignInAsync(page, ConsoleServer.AdminEmail, ConsoleServer.AdminPassword);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await context.StorageStateAsync(new BrowserContextStorageStateOptions { Path = AdminStatePath });
    }

    /// <summary>More command-line settings for the console process.</summary>
    protected virtual string[] ServerArgs => [];

    /// <summary>Puts data in before the browser starts; nothing by default.</summary>
    protected virtual Task SeedAsync() => Task.CompletedTask;

    /// <summary>A page in a fresh context, signed in as the admin unless <paramref name="signedIn"/> is false.</summary>
    public async Task<IPage> NewPageAsync(bool signedIn = true, string? storageStatePath = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.BaseUrl,
            StorageStatePath = signedIn ? storageStatePath ?? AdminStatePath : null,
            ViewportSize = new ViewportSize { Width = 1366, Height = 860 },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Opens a console page and waits until its circuit is interactive (before that, clicks do nothing).</summary>
    public async Task GotoAsync(IPage page, string url)
    {
        await page.GotoAsync(url);
        await Assertions.Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
    }

    /// <summary>Runs a test's steps; on failure keeps a screenshot and the server log under e2e/artifacts.</summary>
    public async Task RunAsync(IPage page, string name, Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, $"{name}-failure.png"), FullPage = true });
            await File.WriteAllTextAsync(Path.Combine(ArtifactsFolder, $"{name}-server.log"), Server.Log);
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    /// <summary>Adds a console user with <paramref name="role"/> through Settings › Users; returns their storage state file.</summary>
    public async Task<string> SignedInUserAsync(string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}"[..20] + "@example.com";
        var page = await NewPageAsync();
        await GotoAsync(page, "/settings/users");
        await page.GetByTestId("create-user").ClickAsync();
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Display name").FillAsync($"Test {role}");
        await page.GetByTestId("user-role").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = role }).ClickAsync();
        await page.GetByTestId("user-submit").ClickAsync();
        var password = (await page.GetByTestId("secret-value").TextContentAsync())!.Trim();
        await page.GetByTestId("secret-done").ClickAsync();
        await page.Context.CloseAsync();

        var statePath = Path.Combine(Server.DataFolder, $"{role}-{Guid.NewGuid():N}.json");
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.BaseUrl });
        var userPage = await context.NewPageAsync();
        await LoginPage.SignInAsync(userPage, email, password);
        await Assertions.Expect(userPage.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await context.StorageStateAsync(new BrowserContextStorageStateOptions { Path = statePath });
        return statePath;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}

public static class LoginPage
{
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/account/login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }
}
