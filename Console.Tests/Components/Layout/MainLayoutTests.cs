using Bunit;
using DeliveryConsole.Components.Layout;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Components.Layout;

public sealed class MainLayoutTests : BunitTestBase
{
    private IRenderedComponent<MainLayout> RenderLayout() =>
        Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddMarkupContent(0, "<h1 id='page'>page body</h1>"))));

    [Fact]
    public async Task Layout_ShowsEveryNavigationEntry_WithAccessibleNames_AndTheBody()
    {
        await SignInAsync(Role.Operator);
        var layout = RenderLayout();

        layout.WaitForAssertion(() => Assert.Contains("Test User · operator", layout.Markup));
        Assert.Equal("page body", layout.Find("#page").TextContent);
        var expected = new Dictionary<string, string>
        {
            ["nav-dashboard"] = "Dashboard",
            ["nav-deliveries"] = "Deliveries",
            ["nav-callbacks"] = "Callbacks",
            ["nav-calls"] = "Calls",
            ["nav-webhooks"] = "Webhooks",
            ["nav-audit"] = "Audit",
            ["nav-api-keys"] = "API keys",
            ["nav-users"] = "Users",
        };
        foreach (var (testId, name) in expected)
        {
            var link = layout.Find($"[data-testid='{testId}'] a, a[data-testid='{testId}']");
            Assert.Equal(name, link.TextContent.Trim());
        }

        Assert.Equal("Toggle navigation", layout.Find("[data-testid='nav-toggle']").GetAttribute("aria-label"));
        Assert.NotNull(layout.Find("nav[aria-label='Main']"));
    }

    [Fact]
    public async Task DarkModeToggle_FlipsTheTheme_AndIsRememberedForTheUser()
    {
        await SignInAsync(Role.Viewer, "viewer@example.com");
        var layout = RenderLayout();
        var toggle = layout.WaitForElement("[data-testid='dark-mode-toggle']");
        Assert.Equal("Switch to dark mode", toggle.GetAttribute("aria-label"));

        await toggle.ClickAsync(new());
        layout.WaitForAssertion(() => Assert.Equal("Switch to light mode", layout.Find("[data-testid='dark-mode-toggle']").GetAttribute("aria-label")));
        await using (var db = await DbAsync())
        {
            Assert.True(await db.Users.Where(u => u.Id == UserId).Select(u => u.PrefersDarkMode).SingleAsync());
        }

        // A new session of the same user starts dark.
        await DisposeComponentsAsync();
        var again = RenderLayout();
        again.WaitForAssertion(() => Assert.Equal("Switch to light mode", again.Find("[data-testid='dark-mode-toggle']").GetAttribute("aria-label")));
    }
}
