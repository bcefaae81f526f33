using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>
/// A request's Host header never reaches what the console sends back: redirects are relative
/// (the browser resolves them against the address it asked), links in pages are relative, and the
/// absolute URLs it hands out (portal links) come from Delivery:PublicBaseUrl.
/// </summary>
public sealed class HostHeaderTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private const string Evil = "evil.example";

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path) { Headers = { Host = Evil } };

    private static void AssertNoEvil(HttpResponseMessage response, string body)
    {
        Assert.DoesNotContain(Evil, response.Headers.Location?.OriginalString ?? "");
        Assert.DoesNotContain(response.Headers, h => h.Value.Any(v => v.Contains(Evil, StringComparison.OrdinalIgnoreCase)));
        Assert.DoesNotContain(Evil, body, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/w/default/deliveries")]
    [InlineData("/deliveries?status=failed")]
    [InlineData("/")]
    [InlineData("/hangfire")]
    [InlineData("/w/default/settings/api-keys")]
    public async Task An_anonymous_redirect_is_relative_whatever_the_host_header(string path)
    {
        var browser = ConsoleBrowser.Create(app);
        var response = await browser.SendAsync(Get(path));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith("/", location);
        Assert.False(location.StartsWith("//", StringComparison.Ordinal), location);
        AssertNoEvil(response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Sign_in_pages_and_their_redirects_never_name_the_host_header()
    {
        var browser = ConsoleBrowser.Create(app);
        var form = await browser.SendAsync(Get("/account/login?returnUrl=%2Fw%2Fdefault%2Fcalls"));
        var html = await form.Content.ReadAsStringAsync();
        AssertNoEvil(form, html);
        var token = ConsoleBrowser.AntiforgeryToken(html);
        var post = new HttpRequestMessage(HttpMethod.Post, "/account/login?returnUrl=%2Fw%2Fdefault%2Fcalls")
        {
            Headers = { Host = Evil },
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["_handler"] = "login",
                ["Input.Email"] = ConsoleAppFactory.AdminEmail,
                ["Input.Password"] = ConsoleAppFactory.AdminPassword,
            }),
        };
        var signedIn = await browser.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/w/default/calls", signedIn.Headers.Location!.OriginalString);
        AssertNoEvil(signedIn, await signedIn.Content.ReadAsStringAsync());

        // Signed in: the pages (skip link, base, every link) name no host.
        foreach (var path in new[] { "/w/default/", "/w/default/deliveries", "/w/default/calls", "/w/default/settings/portal-links", "/w/default/no-such-page" })
        {
            var page = await browser.SendAsync(Get(path));
            var body = await page.Content.ReadAsStringAsync();
            AssertNoEvil(page, body);
            Assert.Contains("#main-content", body);
        }

        // A page without the workspace prefix redirects into it, relatively.
        var legacy = await browser.SendAsync(Get("/calls"));
        Assert.Equal(HttpStatusCode.Redirect, legacy.StatusCode);
        Assert.Equal("/w/default/calls", legacy.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_portal_link_made_through_any_host_names_the_public_base_url()
    {
        var client = await app.ClientAsync(Role.Admin);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/portal-links") { Headers = { Host = Evil }, Content = JsonContent.Create(new { label = "Acme" }) };
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        Assert.StartsWith("http://127.0.0.1:5080/", url);
    }
}
