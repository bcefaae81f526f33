using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

/// <summary>The seeded demo delivers for real, to the console's own inboxes, and nothing leaves the machine.</summary>
[Collection(SeededConsoleCollection.Name)]
public sealed partial class DemoTests(SeededConsoleFixture console)
{
    [Fact]
    public async Task A_seeded_console_delivers_to_its_own_inboxes_and_connects_nowhere_else()
    {
        using var api = await console.Server.ApiClientAsync("operator", "e2e demo");
        using var applications = JsonDocument.Parse(await api.GetStringAsync("/v1/applications"));
        var dispatch = applications.RootElement.GetProperty("data").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "Dispatch assistant").GetProperty("id").GetString();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await api.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", applicationId = dispatch, payload = new { call = new { id = $"call_demo_{i}" } } });
            response.EnsureSuccessStatusCode();
            using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            ids.AddRange(created.RootElement.GetProperty("deliveryIds").EnumerateArray().Select(d => d.GetString()!));
        }

        // The new deliveries (to the application's inbox and the workspace webhook's) reach the inboxes and are answered, as each inbox is scripted to.
        Assert.NotEmpty(ids);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var list = JsonDocument.Parse(await api.GetStringAsync("/v1/webhooks/deliveries?limit=100"));
            var mine = list.RootElement.GetProperty("items").EnumerateArray().Where(d => ids.Contains(d.GetProperty("id").GetString()!)).ToList();
            if (mine.Count == ids.Count && mine.All(d => d.GetProperty("httpStatus").ValueKind == JsonValueKind.Number))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the demo deliveries were not answered: {string.Join("\n", mine.Select(d => d.GetRawText()))}\n{console.Server.Log}");
            await Task.Delay(500);
        }

        // Every connection the engine opened was to the console itself; no DNS lookup, nothing else.
        var connections = console.Server.Log.Split('\n').Where(l => l.Contains("Outbound connection to", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(connections);
        Assert.All(connections, line => Assert.Contains("this console's own inbox at 127.0.0.1:" + new Uri(console.Server.BaseUrl).Port, line));
        Assert.DoesNotContain("DNS lookup failed", console.Server.Log);
        // No delivery failed for want of a network: nothing tried to resolve or reach an outside host.
        Assert.DoesNotMatch(NetworkFailure(), console.Server.Log);

        var page = await console.NewPageAsync();
        await console.RunAsync(page, "demo-inbox", async () =>
        {
            await console.GotoAsync(page, "/inboxes");
            await page.GetByRole(AriaRole.Link, new() { Name = "Acme Logistics · calls finished" }).ClickAsync();
            await Expect(page.GetByTestId("inbox-title")).ToHaveTextAsync("Acme Logistics · calls finished");
            await Expect(page.GetByTestId("inbox-request").First).ToBeVisibleAsync();
            await Expect(page.GetByTestId("inbox-signature")).ToContainTextAsync("Signature verified");
            await Expect(page.GetByTestId("inbox-request-body")).ToContainTextAsync("call.completed");
        });
    }

    [Fact]
    public async Task An_inbox_made_in_the_console_receives_a_test_send_and_shows_its_verified_signature()
    {
        using var api = await console.Server.ApiClientAsync("admin", "e2e inbox");
        var page = await console.NewPageAsync();
        await console.RunAsync(page, "inbox-test-send", async () =>
        {
            await console.GotoAsync(page, "/inboxes");
            await page.GetByTestId("create-inbox").ClickAsync();
            await page.GetByTestId("inbox-name").FillAsync("E2E rehearsal");
            await page.GetByTestId("inbox-endpoint").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex("^Workspace webhook") }).ClickAsync();
            await page.GetByTestId("inbox-submit").ClickAsync();
            await Expect(page.GetByTestId("inbox-title")).ToHaveTextAsync("E2E rehearsal");
            await Expect(page.GetByTestId("inbox-empty")).ToBeVisibleAsync();
            var url = (await page.GetByTestId("inbox-url").TextContentAsync())!.Trim();
            Assert.Matches(@"^http://127\.0\.0\.1:\d+/inbox/in_[0-9a-z]{32}$", url);

            // The workspace webhook now sends to this inbox; the page offers a test send.
            (await api.PostAsJsonAsync("/v1/webhooks", new { url, eventTypes = Array.Empty<string>() })).EnsureSuccessStatusCode();
            await page.ReloadAsync();
            await Expect(page.Locator("[data-interactive='true']")).ToBeVisibleAsync();
            await page.GetByTestId("inbox-send-test").ClickAsync();
            await Expect(page.GetByTestId("inbox-request")).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("inbox-signature")).ToContainTextAsync("Signature verified");
            await Expect(page.GetByTestId("inbox-signature")).ToContainTextAsync("Signed with secret v");
            await Expect(page.GetByTestId("inbox-request-body")).ToContainTextAsync("webhook.test");

            // Scripted failure: the next test send gets the chosen answer, and the console says so.
            await page.GetByTestId("inbox-edit").ClickAsync();
            await page.GetByTestId("inbox-status").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "503 Service Unavailable" }).ClickAsync();
            await page.GetByTestId("inbox-submit").ClickAsync();
            await Expect(page.GetByTestId("inbox-summary")).ToContainTextAsync("Answers HTTP 503");
            await Expect(page.GetByTestId("inbox-summary")).ToContainTextAsync("verifies signatures with Workspace webhook's secret");
            await page.GetByTestId("inbox-send-test").ClickAsync();
            await Expect(page.GetByTestId("inbox-request")).ToHaveCountAsync(2);
            await Expect(page.GetByText("HTTP 503").First).ToBeVisibleAsync();
        });
    }

    [GeneratedRegex(@"SocketException|HttpRequestException|Name or service not known|Connection refused")]
    private static partial Regex NetworkFailure();
}
