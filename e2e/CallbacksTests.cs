using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class CallbacksTests(ConsoleFixture console) : IAsyncLifetime
{
    private HttpClient _api = default!;

    public async Task InitializeAsync()
    {
        _api = await console.Server.ApiClientAsync("operator", "e2e callbacks");
    }

    public Task DisposeAsync()
    {
        _api.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A scheduled callback to a number no other test uses, due in a day.</summary>
    private async Task<(string Id, string Number)> CreateAsync()
    {
        var number = "+1201" + Random.Shared.Next(1000000, 9999999);
        var response = await _api.PostAsJsonAsync("/v1/callbacks", new
        {
            to_number = number,
            scheduled_at = DateTime.UtcNow.AddDays(1),
            reason = "Wants a quote for <b>two</b> pallets",
            instructions = "Offer the Tuesday slot first.",
            metadata = new { ticket = "T-1" },
        });
        response.EnsureSuccessStatusCode();
        return ((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, number);
    }

    private static ILocator Row(IPage page, string number) => page.GetByRole(AriaRole.Row).Filter(new() { HasText = number });

    /// <summary>Searches by number and waits until the table shows that callback alone (the search is debounced).</summary>
    private static async Task SearchAsync(IPage page, string number)
    {
        await page.GetByTestId("callback-search").FillAsync(number);
        await Expect(page.GetByTestId("callbacks-table").Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(Row(page, number)).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task An_operator_snoozes_and_reschedules_a_callback_with_a_reason_each_audited()
    {
        var (id, number) = await CreateAsync();
        var before = (await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}")).GetProperty("scheduled_at").GetDateTime().ToUniversalTime();
        var page = await console.NewPageAsync(storageStatePath: await console.SignedInUserAsync("operator"));
        await console.RunAsync(page, "callbacks-reschedule", async () =>
        {
            await console.GotoAsync(page, "/callbacks");
            await SearchAsync(page, number);

            // Snooze an hour.
            await Row(page, number).GetByTestId("reschedule-callback").ClickAsync();
            await page.GetByTestId("reschedule-1h").ClickAsync();
            await Expect(page.GetByTestId("reschedule-ok")).ToBeDisabledAsync();
            await page.GetByTestId("reschedule-reason").FillAsync("Customer is in a meeting");
            await page.GetByTestId("reschedule-ok").ClickAsync();
            await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("moved to");

            // Tomorrow, same time.
            await Row(page, number).GetByTestId("reschedule-callback").ClickAsync();
            await page.GetByTestId("reschedule-tomorrow").ClickAsync();
            await page.GetByTestId("reschedule-reason").FillAsync("Asked for tomorrow instead");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "callbacks-reschedule.png") });
            await page.GetByTestId("reschedule-ok").ClickAsync();
            await Expect(page.GetByTestId("reschedule-dialog")).ToBeHiddenAsync();
        });

        var after = (await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}")).GetProperty("scheduled_at").GetDateTime().ToUniversalTime();
        Assert.InRange((after - before).TotalMinutes, 24 * 60 + 59, 24 * 60 + 61);

        // Both moves are in the audit log with their reasons.
        var audit = await console.NewPageAsync();
        await console.RunAsync(audit, "callbacks-reschedule-audit", async () =>
        {
            await console.GotoAsync(audit, "/audit");
            await Expect(audit.GetByText("Customer is in a meeting")).ToBeVisibleAsync();
            await Expect(audit.GetByText("Asked for tomorrow instead")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task An_admin_sets_quiet_hours_and_a_due_callback_waits_for_their_end_in_the_callee_time_zone_audited()
    {
        // A window around London's present moment (New York, the other tests' numbers, is outside it).
        var london = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");
        var londonNow = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, london);
        var start = ((londonNow.Hour * 60 + londonNow.Minute) / 30 * 30 + 1440 - 30) % 1440;
        var end = (start + 150) % 1440;
        string Clock(int minute) => $"{minute / 60:00}:{minute % 60:00}";

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "callbacks-quiet-hours", async () =>
        {
            await console.GotoAsync(page, "/callbacks");
            await page.GetByTestId("quiet-hours").ClickAsync();
            await page.GetByTestId("quiet-hours-on").ClickAsync();
            await page.GetByTestId("quiet-hours-start").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = Clock(start), Exact = true }).ClickAsync();
            await page.GetByTestId("quiet-hours-end").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = Clock(end), Exact = true }).ClickAsync();
            await page.GetByTestId("quiet-hours-save").ClickAsync();
            await Expect(page.GetByTestId("quiet-hours")).ToContainTextAsync($"Quiet hours {Clock(start)}–{Clock(end)}");

            // A callback to a London number, due in a few seconds: instead of dispatching, it moves to the window's end.
            var number = "+44770090" + Random.Shared.Next(1000, 9999);
            var response = await _api.PostAsJsonAsync("/v1/callbacks", new { to_number = number, scheduled_at = DateTime.UtcNow.AddSeconds(3), reason = "Quiet hours rehearsal" });
            response.EnsureSuccessStatusCode();
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            await SearchAsync(page, number);
            await Expect(Row(page, number).GetByTestId("callback-deferred")).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Expect(Row(page, number).GetByTestId("callback-callee-time")).ToContainTextAsync($"{Clock(end)} Europe/London");
            var moved = (await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}")).GetProperty("scheduled_at").GetDateTime().ToUniversalTime();
            Assert.Equal(Clock(end), TimeZoneInfo.ConvertTimeFromUtc(moved, london).ToString("HH:mm"));
            Assert.Equal("scheduled", (await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}")).GetProperty("status").GetString());

            // The callee is in Paris after all: the operator says so on the row.
            await Row(page, number).GetByTestId("callee-zone-button").ClickAsync();
            await page.GetByTestId("callee-zone").FillAsync("Europe/Par");
            await page.GetByRole(AriaRole.Option, new() { Name = "Europe/Paris", Exact = true }).ClickAsync();
            await page.GetByTestId("callee-zone-save").ClickAsync();
            await Expect(Row(page, number).GetByTestId("callback-callee-time")).ToContainTextAsync("Europe/Paris (set)");

            // Off again, so the other tests' callbacks dispatch at their time.
            await page.GetByTestId("quiet-hours").ClickAsync();
            await page.GetByTestId("quiet-hours-on").ClickAsync();
            await page.GetByTestId("quiet-hours-save").ClickAsync();
            await Expect(page.GetByTestId("quiet-hours")).ToContainTextAsync("No quiet hours");

            // Each step is in the audit log.
            await console.GotoAsync(page, "/audit");
            await Expect(page.GetByText($"callbacks wait during {Clock(start)}–{Clock(end)} in the callee's time zone")).ToBeVisibleAsync();
            await Expect(page.GetByText($"quiet hours {Clock(start)}–{Clock(end)} in Europe/London").First).ToBeVisibleAsync();
            await Expect(page.GetByText("to Europe/Paris").First).ToBeVisibleAsync();
            await Expect(page.GetByText("no quiet hours").First).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task An_operator_cancels_a_callback_with_a_reason_and_sees_it_cancelled()
    {
        var (id, number) = await CreateAsync();
        var page = await console.NewPageAsync(storageStatePath: await console.SignedInUserAsync("operator"));
        await console.RunAsync(page, "callbacks-cancel", async () =>
        {
            await console.GotoAsync(page, "/callbacks");
            await SearchAsync(page, number);
            await Row(page, number).GetByTestId("cancel-callback").ClickAsync();
            await page.GetByTestId("confirm-reason").FillAsync("Customer called back first");
            await page.GetByTestId("confirm-ok").ClickAsync();

            // It stays in view, cancelled, until the operator changes the filters; then the scheduled list no longer has it.
            await Expect(Row(page, number).GetByTestId("callback-status")).ToHaveTextAsync("cancelled");
            await Expect(Row(page, number).GetByTestId("callback-kept")).ToBeVisibleAsync();
            await page.GetByTestId("callback-status-filter").GetByText("dispatched").ClickAsync();
            await page.GetByTestId("callback-status-filter").GetByText("scheduled").ClickAsync();
            await Expect(page.GetByTestId("callbacks-empty")).ToBeVisibleAsync();
            await page.GetByTestId("callback-status-filter").GetByText("cancelled").ClickAsync();
            await Expect(Row(page, number).GetByTestId("callback-status")).ToHaveTextAsync("cancelled");
            await Row(page, number).GetByTestId("callback-to").ClickAsync();
            await Expect(page.GetByTestId("callback-detail")).ToContainTextAsync("Customer called back first");
            // The reason is text, not markup.
            await Expect(page.GetByTestId("callback-detail")).ToContainTextAsync("<b>two</b>");
            await page.WaitForTimeoutAsync(600); // the drawer slides in
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "callbacks-cancelled.png") });
        });

        var callback = await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}");
        Assert.Equal("cancelled", callback.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_operator_dispatches_a_callback_now_and_follows_the_link_to_the_call()
    {
        var (id, number) = await CreateAsync();
        var page = await console.NewPageAsync(storageStatePath: await console.SignedInUserAsync("operator"));
        await console.RunAsync(page, "callbacks-dispatch", async () =>
        {
            await console.GotoAsync(page, "/callbacks");
            await SearchAsync(page, number);
            await Row(page, number).GetByTestId("dispatch-callback").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();

            // Still in the scheduled view, dispatched, with the link to the call it placed.
            await Expect(Row(page, number).GetByTestId("callback-status")).ToHaveTextAsync("dispatched");
            await Expect(Row(page, number).GetByTestId("callback-kept")).ToBeVisibleAsync();
            await Row(page, number).GetByTestId("created-call-link").ClickAsync();

            await Expect(page).ToHaveURLAsync(new Regex("/calls/call_"));
            await Expect(page.GetByTestId("call-detail")).ToContainTextAsync(number);
            await Expect(page.GetByTestId("call-timeline")).ToContainTextAsync("Created");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "call-from-callback.png"), FullPage = true });
        });

        var callback = await _api.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}");
        Assert.Equal("dispatched", callback.GetProperty("status").GetString());
        Assert.StartsWith("call_", callback.GetProperty("created_session_id").GetString());
    }

    [Fact]
    public async Task A_viewer_sees_cancel_and_dispatch_disabled()
    {
        var (_, number) = await CreateAsync();
        var page = await console.NewPageAsync(storageStatePath: await console.SignedInUserAsync("viewer"));
        await console.RunAsync(page, "callbacks-viewer", async () =>
        {
            await console.GotoAsync(page, "/callbacks");
            await SearchAsync(page, number);
            await Expect(Row(page, number).GetByTestId("cancel-callback")).ToBeDisabledAsync();
            await Expect(Row(page, number).GetByTestId("dispatch-callback")).ToBeDisabledAsync();
            await Expect(page.GetByTestId("cancel-selected")).ToBeDisabledAsync();
        });
    }
}
