using System.Net;
using System.Text.RegularExpressions;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DeliveryConsole.Tests.Features.Access;

/// <summary>The sign-in form (with its antiforgery token), disabled users, and the admin-only Hangfire dashboard.</summary>
public sealed partial class ConsoleSignInTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private HttpClient Browser() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password) =>
        ConsoleBrowser.SignInAsync(browser, email, password);

    [Fact]
    public async Task HangfireDashboard_IsForAdminsOnly()
    {
        var anonymous = await Browser().GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.Contains("/account/login", anonymous.Headers.Location!.ToString());

        var admin = Browser();
        var signedIn = await SignInAsync(admin, ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var dashboard = await admin.GetAsync("/hangfire");
        Assert.True(dashboard.StatusCode == HttpStatusCode.OK, await dashboard.Content.ReadAsStringAsync());

        var caller = await app.SystemCallerAsync();
        var email = $"viewer-{Guid.NewGuid():N}@example.com";
        await app.Service<UserService>().CreateAsync(caller, email, null, Role.Viewer, "Viewer-Passw0rd-1");
        var viewer = Browser();
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(viewer, email, "Viewer-Passw0rd-1")).StatusCode);
        var denied = await viewer.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.Contains("/account/access-denied", denied.Headers.Location!.ToString());
    }

    [Fact]
    public async Task PostWithoutAntiforgeryToken_IsRejected()
    {
        var response = await Browser().PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["Input.Email"] = ConsoleAppFactory.AdminEmail,
            ["Input.Password"] = ConsoleAppFactory.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("dc_auth", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DisabledUser_CannotSignIn()
    {
        var caller = await app.SystemCallerAsync();
        var email = $"gone-{Guid.NewGuid():N}@example.com";
        var user = await app.Service<UserService>().CreateAsync(caller, email, null, Role.Operator, "Operator-Passw0rd-1");
        await app.Service<UserService>().SetDisabledAsync(caller, user.User.Id, true);

        var response = await SignInAsync(Browser(), email, "Operator-Passw0rd-1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("This account is disabled", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("dc_auth", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ReturnUrl_ToAnotherSite_IsIgnored()
    {
        var browser = Browser();
        var form = await browser.GetStringAsync("/account/login?returnUrl=https://evil.example/");
        var token = TokenField().Match(form).Groups[1].Value;
        var response = await browser.PostAsync("/account/login?returnUrl=https://evil.example/", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "login",
            ["Input.Email"] = ConsoleAppFactory.AdminEmail,
            ["Input.Password"] = ConsoleAppFactory.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.ToString().Replace("http://localhost", ""));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
