using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A cookie-keeping HTTP client that signs in through the real form, as a browser would (without running the circuit).</summary>
public static partial class ConsoleBrowser
{
    public static HttpClient Create(ConsoleAppFactory app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password)
    {
        var form = await browser.GetStringAsync("/account/login");
        var token = AntiforgeryToken(form);
        return await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "login",
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    /// <summary>A browser signed in as <paramref name="email"/>; fails the test when the sign-in does not redirect.</summary>
    public static async Task<HttpClient> SignedInAsync(ConsoleAppFactory app, string email, string password)
    {
        var browser = Create(app);
        var response = await SignInAsync(browser, email, password);
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in of {email} answered {(int)response.StatusCode}");
        }

        return browser;
    }

    /// <summary>The antiforgery token a page's form carries (empty when it has none).</summary>
    public static string AntiforgeryToken(string html) => TokenField().Match(html).Groups[1].Value;

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
