using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Portal;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Workspaces;

/// <summary>Customer portal links: made by the API or an admin, limited to their workspace and endpoints, expiring, revocable, audited as "portal".</summary>
public sealed class PortalLinkTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private PortalService Portal => app.Service<PortalService>();

    private async Task<(Caller Admin, string Key, Guid Shown, Guid Hidden, Guid ShownDelivery, Guid HiddenDelivery)> SeedAsync()
    {
        var name = "portal-" + Guid.NewGuid().ToString("N")[..8];
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, name);
        var admin = new Caller(workspaceId, Role.Admin, "user", "a", "Ada");
        var application = await app.Service<ApplicationService>().CreateAsync(admin, "Shown app", "https://shown.example/hook");
        var shown = application.Application.EndpointId!.Value;
        var hidden = (await app.Service<EndpointService>().CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, "https://hidden.example/hook", []))).Endpoint.Id;
        await using var db = await app.DbAsync();
        Guid Add(Guid endpoint, string host)
        {
            var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = workspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = DateTime.UtcNow };
            db.Events.Add(evt);
            var delivery = new Delivery
            {
                Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, EventId = evt.Id, EndpointId = endpoint, EventType = evt.Type, Channel = "voice",
                TargetUrl = $"https://{host}/hook", TargetHost = host, PayloadJson = "{\"event\":\"call.completed\"}", Status = DeliveryStatus.Failed,
                Attempts = 6, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Deliveries.Add(delivery);
            return delivery.Id;
        }

        var shownDelivery = Add(shown, "shown.example");
        var hiddenDelivery = Add(hidden, "hidden.example");
        await db.SaveChangesAsync();
        return (admin, key, shown, hidden, shownDelivery, hiddenDelivery);
    }

    [Fact]
    public async Task Api_creates_a_link_shown_once_that_sees_only_its_workspace_and_endpoints_and_acts_as_portal()
    {
        var seed = await SeedAsync();
        var client = app.ClientWithKey(seed.Key);
        var response = await client.PostAsJsonAsync("/v1/portal-links", new { label = "Acme Logistics", endpointIds = new[] { seed.Shown }, allowSecretRotation = true, expiresInMinutes = 120 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("dcp_", token);
        Assert.EndsWith("/portal/" + token, created.GetProperty("url").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.False(created.GetProperty("readOnly").GetBoolean());

        // Listed without its token; only a hash is stored.
        var list = await client.GetStringAsync("/v1/portal-links");
        Assert.DoesNotContain(token, list);
        Assert.Contains(created.GetProperty("id").GetString()!, list);
        await using (var db = await app.DbAsync())
        {
            Assert.False(await db.PortalLinks.AnyAsync(l => l.TokenHash == token));
        }

        // Its workspace's deliveries to its endpoints only.
        var session = await Portal.OpenAsync(token);
        Assert.Equal([seed.Shown], session.Endpoints.Select(e => e.Id).ToArray());
        var page = await Portal.DeliveriesAsync(token, new DeliveryFilter(), 0, 50);
        Assert.Equal([seed.ShownDelivery], page.Items.Select(d => d.Id).ToArray());
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.DeliveryAsync(token, seed.HiddenDelivery));
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.DeliveriesAsync(token, new DeliveryFilter { EndpointId = seed.Hidden }, 0, 50));
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.ResendAsync(token, seed.HiddenDelivery));
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.RotateSecretAsync(token, seed.Hidden, TimeSpan.Zero));
        var other = await SeedAsync();
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.DeliveryAsync(token, other.ShownDelivery));
        await Assert.ThrowsAsync<NotFoundException>(() => Portal.RotateSecretAsync(token, other.Shown, TimeSpan.Zero));

        // Its actions, audited as the portal link.
        await Portal.ResendAsync(token, seed.ShownDelivery);
        var secret = (await Portal.RotateSecretAsync(token, seed.Shown, TimeSpan.FromHours(1))).Secret;
        Assert.StartsWith("whsec_", secret);
        await using (var db = await app.DbAsync())
        {
            var entries = await db.AuditEntries.Where(a => a.WorkspaceId == seed.Admin.WorkspaceId && a.ActorType == "portal").OrderBy(a => a.Id).ToListAsync();
            Assert.Equal(["delivery.resent", "webhook.secret_rotated"], entries.Select(a => a.Action).ToArray());
            Assert.All(entries, a => Assert.Contains("Acme Logistics", a.ActorName));
            Assert.True(await db.AuditEntries.AnyAsync(a => a.WorkspaceId == seed.Admin.WorkspaceId && a.Action == "portal_link.created"));
        }
    }

    [Fact]
    public async Task Read_only_links_cannot_act_and_expired_or_revoked_links_show_nothing()
    {
        var seed = await SeedAsync();
        var readOnly = await Portal.CreateAsync(seed.Admin, new PortalLinkRequest(null, null, ReadOnly: true, AllowSecretRotation: true, TimeSpan.FromHours(1)));
        Assert.False(readOnly.Link.AllowSecretRotation);
        Assert.Equal(2, (await Portal.DeliveriesAsync(readOnly.Token, new DeliveryFilter(), 0, 50)).Items.Count);
        await Assert.ThrowsAsync<ForbiddenException>(() => Portal.ResendAsync(readOnly.Token, seed.ShownDelivery));
        await Assert.ThrowsAsync<ForbiddenException>(() => Portal.RotateSecretAsync(readOnly.Token, seed.Shown, TimeSpan.Zero));

        // The page of a live link shows the workspace's deliveries.
        var browser = ConsoleBrowser.Create(app);
        var live = await browser.GetStringAsync($"/portal/{readOnly.Token}");
        Assert.Contains("Webhook deliveries of", live);

        // Revoked: nothing, on the page and in the service.
        await Portal.RevokeAsync(seed.Admin, readOnly.Link.Id);
        var revoked = await Assert.ThrowsAsync<PortalUnavailableException>(() => Portal.DeliveriesAsync(readOnly.Token, new DeliveryFilter(), 0, 50));
        Assert.Equal("revoked", revoked.Reason);
        var revokedPage = await browser.GetStringAsync($"/portal/{readOnly.Token}");
        Assert.Contains("was revoked", revokedPage);
        Assert.DoesNotContain("shown.example", revokedPage);

        // Expired.
        var expiring = await Portal.CreateAsync(seed.Admin, new PortalLinkRequest("soon", null, false, false, TimeSpan.FromMinutes(5)));
        await using (var db = await app.DbAsync())
        {
            await db.PortalLinks.Where(l => l.Id == expiring.Link.Id).ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, DateTime.UtcNow.AddSeconds(-1)));
        }

        Assert.Equal("expired", (await Assert.ThrowsAsync<PortalUnavailableException>(() => Portal.OpenAsync(expiring.Token))).Reason);
        var expiredPage = await browser.GetStringAsync($"/portal/{expiring.Token}");
        Assert.Contains("expired", expiredPage);
        Assert.DoesNotContain("shown.example", expiredPage);
        Assert.Contains("This portal link is not valid", await browser.GetStringAsync("/portal/dcp_" + new string('x', 40)));

        await using var check = await app.DbAsync();
        Assert.True(await check.AuditEntries.AnyAsync(a => a.WorkspaceId == seed.Admin.WorkspaceId && a.Action == "portal_link.revoked"));
    }

    [Fact]
    public async Task The_api_refuses_bad_input_and_non_admin_keys_in_its_envelope()
    {
        var seed = await SeedAsync();
        var client = app.ClientWithKey(seed.Key);
        var tooLong = await client.PostAsJsonAsync("/v1/portal-links", new { expiresInMinutes = 60 * 24 * 365 });
        await Envelope.AssertErrorAsync(tooLong, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        var notUuid = await client.PostAsJsonAsync("/v1/portal-links", new { endpointIds = new[] { "nope" } });
        await Envelope.AssertErrorAsync(notUuid, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        var other = await SeedAsync();
        // Another workspace's endpoint, or one that never was: the same 404, and no link stored.
        var linksBefore = (await client.GetStringAsync("/v1/portal-links")).Length;
        var foreign = await client.PostAsJsonAsync("/v1/portal-links", new { endpointIds = new[] { other.Shown } });
        await Envelope.AssertErrorAsync(foreign, HttpStatusCode.NotFound, EnvelopeKind.Code);
        var unknown = await client.PostAsJsonAsync("/v1/portal-links", new { endpointIds = new[] { seed.Shown, Guid.NewGuid() } });
        await Envelope.AssertErrorAsync(unknown, HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Equal(linksBefore, (await client.GetStringAsync("/v1/portal-links")).Length);
        var notBool = await client.PostAsJsonAsync("/v1/portal-links", new { readOnly = "yes" });
        await Envelope.AssertErrorAsync(notBool, HttpStatusCode.BadRequest, EnvelopeKind.Code);

        var viewer = await app.ClientAsync(Role.Viewer, (await app.Service<DeliveryConsole.Features.Workspaces.WorkspaceService>().FindAsync(seed.Admin.WorkspaceId))!.Name);
        await Envelope.AssertErrorAsync(await viewer.PostAsJsonAsync("/v1/portal-links", new { }), HttpStatusCode.Forbidden, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await viewer.GetAsync("/v1/portal-links"), HttpStatusCode.Forbidden, EnvelopeKind.Code);

        // Another workspace's link: 404 to revoke, absent from the list.
        var theirs = await Portal.CreateAsync(other.Admin, new PortalLinkRequest(null, null, false, false, TimeSpan.FromHours(1)));
        await Envelope.AssertErrorAsync(await client.DeleteAsync($"/v1/portal-links/{theirs.Link.Id}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.DoesNotContain(theirs.Link.Id.ToString(), await client.GetStringAsync("/v1/portal-links"));
        var mine = await Portal.CreateAsync(seed.Admin, new PortalLinkRequest(null, null, false, false, TimeSpan.FromHours(1)));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/portal-links/{mine.Link.Id}")).StatusCode);
    }
}
