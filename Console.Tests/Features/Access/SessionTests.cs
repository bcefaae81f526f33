using System.Net;
using System.Security.Claims;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DeliveryConsole.Tests.Features.Access;

/// <summary>
/// Console sign-in is a server-side session: sign-out takes the console's own form (its
/// antiforgery token), and sign-out, a password change or a disabled account make every copy of
/// the cookie worthless at once, on this host and on a second host of the same database.
/// </summary>
public sealed class SessionTests : IAsyncLifetime
{
    private const string Password = "Session-Passw0rd-1";

    private readonly ConsoleAppFactory _a = new();
    private ConsoleAppFactory? _b;

    /// <summary>A second node: another host of the same database (its own process state, shared rows and keys).</summary>
    private ConsoleAppFactory B => _b ??= SecondNode.On(_a.DatabasePath);

    private sealed class SecondNode : ConsoleAppFactory
    {
        public static SecondNode On(string path) => new() { SharedDatabasePath = path };
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        await _a.DisposeAsync();
    }

    private async Task<(string UserId, string Email)> UserAsync()
    {
        var caller = await _a.SystemCallerAsync();
        var email = $"session-{Guid.NewGuid():N}@example.com";
        var created = await _a.Service<UserService>().CreateAsync(caller, email, "Session User", Role.Operator, Password);
        return (created.User.Id, email);
    }

    /// <summary>Signs in on <paramref name="node"/>; the browser (with its cookie jar) and the sign-in cookie as a header to copy.</summary>
    private static async Task<(HttpClient Browser, string Cookie)> SignInAsync(ConsoleAppFactory node, string email, string password = Password)
    {
        var browser = ConsoleBrowser.Create(node);
        var response = await ConsoleBrowser.SignInAsync(browser, email, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("dc_auth=", StringComparison.Ordinal)).Split(';')[0];
        return (browser, cookie);
    }

    /// <summary>A request with only the copied cookie, as a thief would send it: true when it is let in.</summary>
    private static async Task<bool> CookieWorksAsync(ConsoleAppFactory node, string cookie)
    {
        var client = node.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/deliveries/export.csv");
        request.Headers.Add("Cookie", cookie);
        var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return true;
        }

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/account/login", response.Headers.Location!.OriginalString);
        return false;
    }

    private static async Task<HttpResponseMessage> SignOutAsync(HttpClient browser)
    {
        // The token for this user (the sign-in page is a plain form; the console's menu form carries the same kind).
        var page = await browser.GetStringAsync("/account/login");
        var token = ConsoleBrowser.AntiforgeryToken(page);
        Assert.NotEmpty(token);
        return await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
    }

    [Fact]
    public async Task A_copied_cookie_is_refused_right_after_sign_out_on_both_nodes()
    {
        var (_, email) = await UserAsync();
        var (browser, cookie) = await SignInAsync(_a, email);
        Assert.True(await CookieWorksAsync(_a, cookie));
        Assert.True(await CookieWorksAsync(B, cookie));

        var signedOut = await SignOutAsync(browser);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("/account/login", signedOut.Headers.Location!.OriginalString);
        Assert.False(await CookieWorksAsync(_a, cookie));
        Assert.False(await CookieWorksAsync(B, cookie));

        // Signing in again is a new session; the old cookie stays dead.
        var (_, again) = await SignInAsync(B, email);
        Assert.True(await CookieWorksAsync(_a, again));
        Assert.False(await CookieWorksAsync(_a, cookie));
    }

    [Fact]
    public async Task A_cross_site_post_to_sign_out_changes_nothing()
    {
        var (_, email) = await UserAsync();
        var (browser, cookie) = await SignInAsync(_a, email);

        // What a page elsewhere can send: the form without the console's token (the browser would
        // not send the strict antiforgery cookie either), or with a made-up one.
        foreach (var form in new[] { new Dictionary<string, string>(), new Dictionary<string, string> { ["__RequestVerificationToken"] = "CfDJ8forged" } })
        {
            var response = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(form));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("nothing was changed", await response.Content.ReadAsStringAsync());
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("dc_auth=", StringComparison.Ordinal)));
        }

        Assert.True(await CookieWorksAsync(_a, cookie));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/w/default/deliveries")).StatusCode);
    }

    [Fact]
    public async Task A_password_change_ends_every_session_of_the_user_at_once_on_both_nodes()
    {
        var (userId, email) = await UserAsync();
        var (_, first) = await SignInAsync(_a, email);
        var (_, second) = await SignInAsync(B, email);
        var (_, bystander) = await SignInAsync(_a, ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        Assert.True(await CookieWorksAsync(B, first));

        // Open circuits on the other node are told too (through the cluster's signals on PostgreSQL).
        var told = new TaskCompletionSource<SessionsEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        B.Service<UserSessions>().Ended += ended => told.TrySetResult(ended);

        var workspace = (await _a.SystemCallerAsync()).WorkspaceId;
        await _a.Service<UserService>().ChangePasswordAsync(new Caller(workspace, Role.Operator, "user", userId, email), Password, "Changed-Passw0rd-2");
        foreach (var node in new[] { _a, B })
        {
            Assert.False(await CookieWorksAsync(node, first));
            Assert.False(await CookieWorksAsync(node, second));
        }

        Assert.True(await CookieWorksAsync(B, bystander));
        if (TestProvider.IsPostgres)
        {
            Assert.Equal(userId, (await told.Task.WaitAsync(TimeSpan.FromSeconds(10))).UserId);
        }

        // The old password no longer signs in; the new one does.
        var old = await ConsoleBrowser.SignInAsync(ConsoleBrowser.Create(_a), email, Password);
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);
        var (_, fresh) = await SignInAsync(_a, email, "Changed-Passw0rd-2");
        Assert.True(await CookieWorksAsync(B, fresh));
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_sessions_at_once()
    {
        var (userId, email) = await UserAsync();
        var (_, cookie) = await SignInAsync(_a, email);
        Assert.True(await CookieWorksAsync(B, cookie));
        await _a.Service<UserService>().SetDisabledAsync(await _a.SystemCallerAsync(), userId, true);
        Assert.False(await CookieWorksAsync(B, cookie));
        Assert.False(await CookieWorksAsync(_a, cookie));
    }

    [Fact]
    public async Task A_cookie_without_a_session_or_for_another_user_is_refused()
    {
        var (_, email) = await UserAsync();
        await SignInAsync(_a, email);
        var sessions = _a.Service<UserSessions>();
        Assert.False(await sessions.IsLiveAsync(null, "x"));
        Assert.False(await sessions.IsLiveAsync("no-such-session", "x"));
        var (userId, _) = await UserAsync();
        var id = await sessions.StartAsync(userId, "test", null);
        Assert.True(await sessions.IsLiveAsync(id, userId));
        Assert.False(await sessions.IsLiveAsync(id, "someone-else"));
        Assert.Equal(UserSessions.Claim, new Claim(UserSessions.Claim, id).Type);
    }
}
