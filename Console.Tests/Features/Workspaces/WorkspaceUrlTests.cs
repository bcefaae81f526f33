using System.Net;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Workspaces;

/// <summary>
/// Memberships and the <c>/w/{workspace}/</c> URL space, through real HTTP with the console's
/// cookie: each workspace a user belongs to opens in its own URL space with its own data, any
/// other is a 404 (unknown or forbidden alike), old URLs redirect to the current workspace, and
/// staff looking in are written to that workspace's audit log.
/// </summary>
public sealed class WorkspaceUrlTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private const string Password = "Member-Passw0rd-1";

    private async Task<(Caller Admin, WorkspaceSummary Workspace)> WorkspaceAsync(string prefix)
    {
        var caller = await app.SystemCallerAsync($"{prefix} {Guid.NewGuid().ToString("N")[..6]}");
        var workspace = await app.Service<WorkspaceService>().FindAsync(caller.WorkspaceId);
        return (caller, new WorkspaceSummary(workspace!.Id, workspace.Name, workspace.Slug!));
    }

    /// <summary>One delivered delivery to a host named after the workspace, so a page or export shows whose data it is.</summary>
    private async Task<string> DeliveryAsync(Caller admin, string host)
    {
        var endpoint = await app.Service<EndpointService>().CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, $"https://{host}/hook", []));
        await using var db = await app.DbAsync();
        var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = admin.WorkspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = DateTime.UtcNow };
        db.Events.Add(evt);
        db.Deliveries.Add(new Delivery
        {
            Id = Guid.CreateVersion7(), WorkspaceId = admin.WorkspaceId, EventId = evt.Id, EndpointId = endpoint.Endpoint.Id, EventType = evt.Type, Channel = "voice",
            TargetUrl = endpoint.Endpoint.Url, TargetHost = host, PayloadJson = "{}", Status = DeliveryStatus.Delivered, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
        return evt.Id;
    }

    [Fact]
    public async Task A_member_of_A_and_B_sees_each_in_its_own_url_space_and_gets_404_for_C()
    {
        var (adminA, a) = await WorkspaceAsync("Alpha");
        var (adminB, b) = await WorkspaceAsync("Bravo");
        var (adminC, c) = await WorkspaceAsync("Charlie");
        await DeliveryAsync(adminA, "alpha-hooks.example");
        await DeliveryAsync(adminB, "bravo-hooks.example");
        await DeliveryAsync(adminC, "charlie-hooks.example");

        var email = $"member-{Guid.NewGuid():N}@example.com";
        var users = app.Service<UserService>();
        var created = await users.CreateAsync(adminA, email, "Member", Role.Operator, Password);
        Assert.False(created.ExistingAccount);
        var added = await users.CreateAsync(adminB, email, null, Role.Viewer, null);
        Assert.True(added.ExistingAccount);
        Assert.Null(added.GeneratedPassword);
        Assert.Equal(2, (await users.ListAsync(adminB)).Single(u => u.Email == email).Workspaces);

        var browser = await ConsoleBrowser.SignedInAsync(app, email, Password);

        // Each workspace in its own URL space, its own name in the app bar and its own data.
        var pageA = await browser.GetAsync($"/w/{a.Slug}/deliveries");
        Assert.Equal(HttpStatusCode.OK, pageA.StatusCode);
        var htmlA = await pageA.Content.ReadAsStringAsync();
        Assert.Contains(a.Name, htmlA);
        Assert.Contains($"<base href=\"/w/{a.Slug}/\"", htmlA);
        var csvA = await browser.GetStringAsync($"/w/{a.Slug}/deliveries/export.csv");
        var csvB = await browser.GetStringAsync($"/w/{b.Slug}/deliveries/export.csv");
        Assert.Contains("alpha-hooks.example", csvA);
        Assert.DoesNotContain("bravo-hooks.example", csvA);
        Assert.Contains("bravo-hooks.example", csvB);
        Assert.DoesNotContain("alpha-hooks.example", csvB);
        var htmlB = await browser.GetStringAsync($"/w/{b.Slug}/settings/users");
        Assert.Contains(b.Name, htmlB);
        // The organization id names the same workspace as the slug.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/w/{b.OrganizationId}/deliveries")).StatusCode);

        // C and a workspace that does not exist: the same 404, no data.
        foreach (var path in new[] { $"/w/{c.Slug}/deliveries", $"/w/{c.Slug}/deliveries/export.csv", $"/w/{c.OrganizationId}/", "/w/no-such-workspace/deliveries" })
        {
            var denied = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, denied.StatusCode);
            var body = await denied.Content.ReadAsStringAsync();
            Assert.DoesNotContain("charlie-hooks.example", body);
            Assert.DoesNotContain(c.Name, body);
        }

        // A URL without a workspace opens the current one under /w/: the one the user chose last
        // (A, where they were created), not whichever workspace a link showed last (B).
        var legacy = await browser.GetAsync("/deliveries?status=failed");
        Assert.Equal(HttpStatusCode.Redirect, legacy.StatusCode);
        Assert.Equal($"/w/{a.Slug}/deliveries?status=failed", legacy.Headers.Location!.OriginalString);
        await app.Service<WorkspaceAccess>().SwitchAsync(created.User.Id, b.Id);
        Assert.Equal($"/w/{b.Slug}/calls", (await browser.GetAsync("/calls")).Headers.Location!.OriginalString);

        // Removed from B: B is a 404 at once (on this node), A still opens.
        await users.RemoveAsync(adminB, created.User.Id);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/w/{b.Slug}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/w/{a.Slug}/deliveries")).StatusCode);
        Assert.Equal($"/w/{a.Slug}/", (await browser.GetAsync("/")).Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_user_removed_from_their_only_workspace_is_told_so_and_sees_nothing()
    {
        var (admin, a) = await WorkspaceAsync("Foxtrot");
        await DeliveryAsync(admin, "foxtrot-hooks.example");
        var email = $"leaver-{Guid.NewGuid():N}@example.com";
        var users = app.Service<UserService>();
        var created = await users.CreateAsync(admin, email, null, Role.Operator, Password);
        var browser = await ConsoleBrowser.SignedInAsync(app, email, Password);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/w/{a.Slug}/deliveries")).StatusCode);

        await users.RemoveAsync(admin, created.User.Id);
        var home = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var html = await home.Content.ReadAsStringAsync();
        Assert.Contains("You belong to no workspace", html);
        Assert.DoesNotContain(a.Name, html);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/w/{a.Slug}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/deliveries/export.csv")).StatusCode);
    }

    [Fact]
    public async Task Api_keys_never_reach_another_workspace_through_a_workspace_url()
    {
        var (_, a) = await WorkspaceAsync("KeyAlpha");
        var (_, b) = await WorkspaceAsync("KeyBravo");
        var (key, _) = await app.CreateKeyAsync(Role.Admin, a.Name);
        var client = app.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/w/{b.Slug}/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/w/{a.Slug}/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/api-keys")).StatusCode);
    }

    [Fact]
    public async Task Staff_see_every_workspace_and_each_look_is_written_to_its_audit_log()
    {
        var (adminD, d) = await WorkspaceAsync("Delta");
        var (adminE, e) = await WorkspaceAsync("Echo");
        var email = $"staff-{Guid.NewGuid():N}@example.com";
        var users = app.Service<UserService>();
        var staff = await users.CreateAsync(adminD, email, "Sam Staff", Role.Viewer, Password);

        // Only staff admins make staff: a workspace admin cannot, the command line can.
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.ForbiddenException>(() => users.SetStaffAsync(adminD, staff.User.Id, Role.Operator));
        await users.SetStaffByEmailAsync(email, Role.Operator);

        var browser = await ConsoleBrowser.SignedInAsync(app, email, Password);
        var page = await browser.GetAsync($"/w/{e.Slug}/deliveries?status=failed");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("staff view", await page.Content.ReadAsStringAsync());
        var workspaces = await browser.GetAsync($"/w/{d.Slug}/workspaces");
        Assert.Equal(HttpStatusCode.OK, workspaces.StatusCode);

        await using (var db = await app.DbAsync())
        {
            var looked = await db.AuditEntries.Where(x => x.WorkspaceId == e.Id && x.Action == "staff.viewed").ToListAsync();
            var entry = Assert.Single(looked);
            Assert.Equal(staff.User.Id, entry.ActorId);
            Assert.Equal($"/w/{e.Slug}/deliveries?status=failed", entry.TargetId);
            Assert.True(DateTime.UtcNow - entry.At < TimeSpan.FromMinutes(1));
            // Where staff is a member, nothing is written: that is ordinary work.
            Assert.False(await db.AuditEntries.AnyAsync(x => x.WorkspaceId == d.Id && x.Action == "staff.viewed"));
        }

        // The flag taken away: the other workspace is a 404 again.
        await users.SetStaffByEmailAsync(email, null);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/w/{e.Slug}/deliveries")).StatusCode);
        await using var check = await app.DbAsync();
        Assert.Equal(2, await check.AuditEntries.CountAsync(x => x.TargetId == staff.User.Id && x.Action == "user.staff_changed"));
    }
}
