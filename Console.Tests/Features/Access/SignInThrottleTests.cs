using System.Net;
using System.Text.RegularExpressions;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace DeliveryConsole.Tests.Features.Access;

/// <summary>The console where a test names the client address of each request (X-Test-Client), as a proxy would.</summary>
public sealed class ClientAddressAppFactory : ConsoleAppFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddTransient<IStartupFilter, ClientAddressFromHeader>());
    }

    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                if (IPAddress.TryParse(http.Request.Headers["X-Test-Client"].ToString(), out var address))
                {
                    http.Connection.RemoteIpAddress = address;
                }

                return following(http);
            });
            next(app);
        };
    }
}

/// <summary>Sign-in answers the same whether the email exists, and a stranger's failures cannot lock anyone out.</summary>
public sealed partial class SignInThrottleTests(ClientAddressAppFactory app) : IClassFixture<ClientAddressAppFactory>
{
    private async Task<(HttpStatusCode Status, string? Error, bool Cookie)> SignInAsync(string address, string email, string password)
    {
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        browser.DefaultRequestHeaders.Add("X-Test-Client", address);
        var form = await browser.GetStringAsync("/account/login");
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = TokenField().Match(form).Groups[1].Value,
            ["_handler"] = "login",
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
        var html = await response.Content.ReadAsStringAsync();
        var error = ErrorBox().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("dc_auth=", StringComparison.Ordinal));
        return (response.StatusCode, error, cookie);
    }

    [Fact]
    public async Task Unknown_email_wrong_password_and_a_hammered_account_get_the_same_answers()
    {
        var known = new List<string?>();
        var unknown = new List<string?>();
        for (var i = 0; i < 12; i++)
        {
            known.Add((await SignInAsync("10.20.0.1", ConsoleAppFactory.AdminEmail, "wrong-password-" + i)).Error);
            unknown.Add((await SignInAsync("10.20.0.2", "nobody@console.local", "wrong-password-" + i)).Error);
        }

        Assert.Equal(known, unknown);
        Assert.Equal("The email or password is not right.", known[0]);
        Assert.StartsWith("Too many failed attempts from this address.", known[^1]);
        Assert.DoesNotContain(known, e => e is not null && e.Contains("locked", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_strangers_failures_do_not_keep_the_right_password_out_from_another_address()
    {
        for (var i = 0; i < 25; i++)
        {
            await SignInAsync("10.30.0.66", ConsoleAppFactory.AdminEmail, "guess-" + i);
        }

        var stranger = await SignInAsync("10.30.0.66", ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        Assert.False(stranger.Cookie, "the hammering address waits, even with the right password");

        var admin = await SignInAsync("10.30.0.7", ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, admin.Status);
        Assert.True(admin.Cookie);
    }

    [Fact]
    public async Task The_rate_limiter_caps_sign_in_posts_per_address_but_not_reading_the_page()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 32; i++)
        {
            statuses.Add((await SignInAsync("10.40.0.9", $"someone{i}@example.com", "x")).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync("10.40.0.10", "someone@example.com", "x")).Status);
    }

    [Fact]
    public async Task The_login_page_carries_the_security_headers()
    {
        var response = await app.CreateClient().GetAsync("/account/login");
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("camera=()", response.Headers.GetValues("Permissions-Policy").Single());
    }

    [Fact]
    public void Delays_grow_after_the_free_failures_and_are_per_address()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T10:00:00Z"));
        var throttle = new SignInThrottle(clock);
        var stranger = IPAddress.Parse("198.51.100.9");
        var owner = IPAddress.Parse("203.0.113.4");
        var waits = new List<double>();
        for (var i = 0; i < SignInThrottle.FreeFailuresPerAccount + 4; i++)
        {
            throttle.Failed("admin@console.local", stranger);
            waits.Add(throttle.WaitFor("ADMIN@console.local ", stranger).TotalSeconds);
        }

        Assert.Equal([0, 0, 0, 0, 0, 1, 2, 4, 8], waits);
        Assert.Equal(TimeSpan.Zero, throttle.WaitFor("admin@console.local", owner));

        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(TimeSpan.Zero, throttle.WaitFor("admin@console.local", stranger));
        throttle.Succeeded("admin@console.local", stranger);
        throttle.Failed("admin@console.local", stranger);
        Assert.Equal(TimeSpan.Zero, throttle.WaitFor("admin@console.local", stranger));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    [GeneratedRegex("data-testid=\"login-error\">([^<]*)<")]
    private static partial Regex ErrorBox();
}
