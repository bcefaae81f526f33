using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace DeliveryConsole.E2E;

[Collection(ConsoleCollection.Name)]
public sealed class CallsTests(ConsoleFixture console)
{
    [Fact]
    public async Task An_operator_finds_a_live_call_ends_it_and_hears_its_recording()
    {
        using var api = await console.Server.ApiClientAsync("operator", "e2e calls");
        var number = "+1312" + Random.Shared.Next(1000000, 9999999);
        var created = await api.PostAsJsonAsync("/api/v1/calls", new { to_number = number, call_type = "e2e_followup", load_number = "LD-E2E" });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var page = await console.NewPageAsync(storageStatePath: await console.SignedInUserAsync("operator"));
        await console.RunAsync(page, "calls-end", async () =>
        {
            await console.GotoAsync(page, "/calls");
            await page.GetByTestId("calls-search").FillAsync(number);
            await Expect(page.GetByTestId("calls-table").Locator("tbody tr")).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("calls-total")).ToHaveTextAsync("1 calls");
            await page.GetByTestId("calls-table").GetByRole(AriaRole.Link, new() { Name = number }).ClickAsync();

            await Expect(page.GetByTestId("call-detail")).ToContainTextAsync(id);
            await Expect(page.GetByTestId("call-status").First).ToHaveTextAsync("IN_PROGRESS", new() { Timeout = 10_000 });
            await page.GetByTestId("join-call").ClickAsync();
            await Expect(page.GetByTestId("join-url")).ToContainTextAsync("/simulated-telephony/join/");

            await page.GetByTestId("end-call").ClickAsync();
            await page.GetByTestId("confirm-ok").ClickAsync();
            await Expect(page.GetByTestId("call-status").First).ToHaveTextAsync("COMPLETED");
            await Expect(page.GetByTestId("end-call")).ToHaveCountAsync(0);
            var audio = page.GetByTestId("call-recording").Locator("audio");
            await Expect(audio).ToHaveCountAsync(1);
            // The player's source answers with the WAV for this signed-in user.
            var source = await audio.GetAttributeAsync("src");
            var response = await page.APIRequest.GetAsync(source!);
            Assert.Equal(200, response.Status);
            Assert.Equal("audio/wav", response.Headers["content-type"]);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleFixture.ArtifactsFolder, "call-ended.png"), FullPage = true });
        });

        var call = await api.GetFromJsonAsync<JsonElement>($"/api/v1/calls/{id}");
        Assert.Equal("COMPLETED", call.GetProperty("status").GetString());
    }
}
