using Bunit;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Access.Pages;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MudBlazor;

namespace DeliveryConsole.Tests.Features.Access;

public sealed class ApiKeysPageTests : BunitTestBase
{
    private IRenderedComponent<MudDialogProvider> RenderPage()
    {
        var host = Render<MudDialogProvider>();
        Render<MudPopoverProvider>();
        return host;
    }

    [Fact]
    public async Task Admin_CreatesKey_SeesItOnce_AndOnlyTheHashIsStored()
    {
        await SignInAsync(Role.Admin, "admin@example.com");
        var dialogs = RenderPage();
        var page = Render<ApiKeysPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='keys-empty']")));

        // The click's handler awaits the dialog, so it completes only once the dialogs are answered.
        var click = page.Find("[data-testid='create-key'] button, button[data-testid='create-key']").ClickAsync(new());
        var name = dialogs.WaitForElement("[data-testid='key-name'] input, input[data-testid='key-name']");
        await name.InputAsync(new() { Value = "CRM sync" });
        await dialogs.Find("[data-testid='key-submit']").ClickAsync(new());

        var secret = dialogs.WaitForElement("[data-testid='secret-value']").TextContent.Trim();
        Assert.Matches("^dck_[0-9A-Za-z]{32}$", secret);
        await using var db = await DbAsync();
        var stored = await db.ApiKeys.SingleAsync(k => k.WorkspaceId == WorkspaceId);
        Assert.Equal(ApiKeyGenerator.Hash(secret), stored.Hash);
        Assert.Equal("CRM sync", stored.Name);

        await dialogs.Find("[data-testid='secret-done']").ClickAsync(new());
        await click;
        page.WaitForAssertion(() => Assert.Contains(stored.Prefix + "…", page.Find("[data-testid='keys-table']").TextContent));
        Assert.DoesNotContain(secret, page.Markup);
    }

    [Fact]
    public async Task Admin_RevokesKey_AfterConfirming()
    {
        await SignInAsync(Role.Admin, "admin2@example.com");
        var created = await Services.GetService<ApiKeyService>()!.CreateAsync(AdminCaller, "old integration", Role.Viewer);
        var dialogs = RenderPage();
        var page = Render<ApiKeysPage>();

        var revoke = page.WaitForElement($"[data-testid='revoke-key-{created.Key.Prefix}']");
        Assert.Equal("Revoke key old integration", revoke.GetAttribute("aria-label"));
        var click = revoke.ClickAsync(new());
        await dialogs.WaitForElement("[data-testid='confirm-ok']").ClickAsync(new());
        await click;

        page.WaitForAssertion(() => Assert.Contains("revoked", page.Find("[data-testid='keys-table']").TextContent));
        await using var db = await DbAsync();
        Assert.NotNull((await db.ApiKeys.SingleAsync(k => k.Id == created.Key.Id)).RevokedAt);
    }

    [Fact]
    public async Task Viewer_SeesNoKeys_AndCannotCreate()
    {
        await Services.GetService<ApiKeyService>()!.CreateAsync(AdminCaller, "secret integration", Role.Admin);
        await SignInAsync(Role.Viewer, "viewer2@example.com");
        RenderPage();
        var page = Render<ApiKeysPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='keys-admin-only']")));
        Assert.True(page.Find("button[data-testid='create-key'], [data-testid='create-key'] button").HasAttribute("disabled"));
        Assert.DoesNotContain("secret integration", page.Markup);
    }
}
