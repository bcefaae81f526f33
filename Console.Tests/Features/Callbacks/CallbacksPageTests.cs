using Bunit;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Callbacks.Pages;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DeliveryConsole.Tests.Features.Callbacks;

public sealed class CallbacksPageTests : BunitTestBase
{
    public CallbacksPageTests()
    {
        AddDeliveryServices();
        AddCallServices();
    }

    private async Task<Callback> CreateAsync(string reason = "Wants a quote for <b>two</b> pallets") =>
        await Services.GetRequiredService<CallbackService>().CreateAsync(Caller.System(WorkspaceId),
            new NewCallback("+12015550100", DateTime.UtcNow.AddMinutes(30), null, null, null, null, reason, "Offer Tuesday", null, "{\"voice\":\"alloy\"}", "{\"ticket\":\"T-1\"}"));

    [Fact]
    public async Task Two_scheduled_callbacks_to_one_number_are_each_marked_as_a_likely_duplicate()
    {
        await SignInAsync(Role.Viewer);
        await CreateAsync();
        await CreateAsync("Promised again later in the call");
        var page = Render<CallbacksPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid='callback-duplicate']").Count));
        Assert.All(page.FindAll("[data-testid='callback-duplicate']"), chip => Assert.Contains("1 more scheduled", chip.TextContent));
    }

    [Fact]
    public async Task The_list_is_server_paged_fifty_at_a_time()
    {
        await SignInAsync(Role.Viewer);
        var service = Services.GetRequiredService<CallbackService>();
        // Beyond the hour: no countdown re-renders the page every second while the test waits.
        for (var i = 0; i < 55; i++)
        {
            await service.CreateAsync(Caller.System(WorkspaceId),
                new NewCallback($"+1201555{i:D4}", DateTime.UtcNow.AddHours(2).AddMinutes(i), null, null, null, null, "r", null, null, "{}", "{}"));
        }

        var page = Render<CallbacksPage>();
        page.WaitForAssertion(() =>
        {
            Assert.Equal("1–50 of 55", page.Find("[data-testid='callbacks-page-text']").TextContent);
            Assert.Equal(50, page.FindAll("[data-testid='callback-to']").Count);
        });
        Assert.Contains("+12015550000", page.FindAll("[data-testid='callback-to']")[0].TextContent);

        page.Find("[data-testid='callbacks-next']").Click();
        page.WaitForAssertion(() =>
        {
            Assert.Equal("51–55 of 55", page.Find("[data-testid='callbacks-page-text']").TextContent);
            Assert.Equal(5, page.FindAll("[data-testid='callback-to']").Count);
        });
        Assert.True(page.Find("[data-testid='callbacks-next']").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Cancel_asks_for_a_reason_and_the_callback_ends_cancelled_with_it()
    {
        await SignInAsync(Role.Operator);
        var callback = await CreateAsync();
        Render<MudPopoverProvider>();
        var dialogs = Render<MudDialogProvider>();
        var page = Render<CallbacksPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid='cancel-callback']")));

        page.Find("[data-testid='cancel-callback']").Click();
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid='confirm-reason']")));
        dialogs.Find("[data-testid='confirm-reason']").Change("Customer called in");
        dialogs.Find("[data-testid='confirm-ok']").Click();

        // It stays in view, cancelled (its Cancel disabled), until the filters change.
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid='callback-kept']")));
        Assert.True(page.Find("[data-testid='cancel-callback']").HasAttribute("disabled"));
        var stored = await Services.GetRequiredService<CallbackService>().GetAsync(Caller.System(WorkspaceId), callback.Id);
        Assert.Equal((CallbackStatus.Cancelled, "Customer called in"), (stored.Status, stored.CancelReason));
    }
}
