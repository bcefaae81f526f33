using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Webhooks;

/// <summary>The Webhooks page's actions, through the service the page calls, against real receivers.</summary>
public sealed class EndpointServiceTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private EndpointService Endpoints => app.Service<EndpointService>();

    private async Task<(Caller Admin, Caller Operator, Caller Viewer)> CallersAsync()
    {
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Admin, "ep-" + Guid.NewGuid().ToString("N")[..8]);
        return (new Caller(workspaceId, Role.Admin, "user", "a", "Ada"), new Caller(workspaceId, Role.Operator, "user", "o", "Otto"),
            new Caller(workspaceId, Role.Viewer, "user", "v", "Vera"));
    }

    [Fact]
    public async Task Create_every_scope_then_overview_lists_them_with_owners_and_24h_success()
    {
        var (admin, _, _) = await CallersAsync();
        var application = await app.Service<ApplicationService>().CreateAsync(admin, "Billing bot", null);
        var campaign = await app.Service<CampaignService>().CreateAsync(admin, "Spring", null);

        var master = await Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, "https://hooks.example.com/master", ["call.completed"]));
        var finished = await Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Application, application.Application.Id, "https://hooks.example.com/app", []));
        var hook = await Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Campaign, campaign.Id, "https://hooks.example.com/campaign", ["campaign.started"]));
        Assert.All([master, finished, hook], e => Assert.StartsWith("whsec_", e.Secret));
        await Assert.ThrowsAsync<ConflictException>(() => Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, "https://hooks.example.com/2", [])));
        await Assert.ThrowsAsync<ConflictException>(() => Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Application, application.Application.Id, "https://hooks.example.com/2", [])));
        await Assert.ThrowsAsync<ValidationException>(() => Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Campaign, campaign.Id, "https://hooks.example.com/x", ["Not A Type"])));
        Assert.Equal("https://hooks.example.com/app", (await app.Service<ApplicationService>().GetAsync(admin, application.Application.Id)).FinishedUrl);

        // Two delivered and one failed delivery on the master webhook in the last hour.
        await using (var db = await app.DbAsync())
        {
            foreach (var status in new[] { DeliveryStatus.Delivered, DeliveryStatus.Delivered, DeliveryStatus.Failed })
            {
                var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = admin.WorkspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = DateTime.UtcNow };
                db.Events.Add(evt);
                db.Deliveries.Add(new Delivery
                {
                    Id = Guid.CreateVersion7(), WorkspaceId = admin.WorkspaceId, EventId = evt.Id, EndpointId = master.Endpoint.Id, EventType = evt.Type, Channel = "voice",
                    TargetUrl = master.Endpoint.Url, TargetHost = "hooks.example.com", PayloadJson = "{}", Status = status, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
                });
            }

            await db.SaveChangesAsync();
            await History.RebuildRollupsAsync(db);
        }

        var overview = await Endpoints.OverviewAsync(admin);
        Assert.Equal(3, overview.Count);
        var masterRow = overview.Single(o => o.Endpoint.Id == master.Endpoint.Id);
        Assert.Equal(("Workspace webhook", 2L, 1L), (masterRow.OwnerName, masterRow.Delivered, masterRow.Failed));
        Assert.Equal(2.0 / 3, masterRow.SuccessRate!.Value, 3);
        Assert.Equal("Billing bot", overview.Single(o => o.Endpoint.Id == finished.Endpoint.Id).OwnerName);
        Assert.Equal("Spring", overview.Single(o => o.Endpoint.Id == hook.Endpoint.Id).OwnerName);
        // Worst first: the only endpoint with failures leads.
        Assert.Equal(master.Endpoint.Id, overview[0].Endpoint.Id);
    }

    [Fact]
    public async Task Edit_disable_enable_rotate_and_delete_each_leave_an_audit_entry_and_keep_the_application_in_step()
    {
        var (admin, _, _) = await CallersAsync();
        var application = await app.Service<ApplicationService>().CreateAsync(admin, "App", "https://hooks.example.com/one");
        var endpointId = application.Application.EndpointId!.Value;

        var edited = await Endpoints.UpdateAsync(admin, endpointId, "https://hooks.example.com/two", []);
        Assert.Equal("https://hooks.example.com/two", edited.Url);
        Assert.Equal("https://hooks.example.com/two", (await app.Service<ApplicationService>().GetAsync(admin, application.Application.Id)).FinishedUrl);

        Assert.Equal(EndpointStatus.Disabled, (await Endpoints.SetEnabledAsync(admin, endpointId, false)).Status);
        Assert.Equal(EndpointStatus.Active, (await Endpoints.SetEnabledAsync(admin, endpointId, true)).Status);

        string Protected() { using var db = app.DbAsync().Result; return db.WebhookEndpoints.Single(e => e.Id == endpointId).SecretProtected; }
        var before = Protected();
        var secret = (await Endpoints.RotateSecretAsync(admin, endpointId, TimeSpan.Zero)).Secret;
        Assert.StartsWith("whsec_", secret);
        Assert.NotEqual(before, Protected());
        Assert.DoesNotContain(secret, Protected());

        await Endpoints.DeleteAsync(admin, endpointId);
        var after = await app.Service<ApplicationService>().GetAsync(admin, application.Application.Id);
        Assert.Null(after.FinishedUrl);
        Assert.Null(after.EndpointId);
        await Assert.ThrowsAsync<NotFoundException>(() => Endpoints.RotateSecretAsync(admin, endpointId, TimeSpan.Zero));

        await using var read = await app.DbAsync();
        var actions = await read.AuditEntries.Where(a => a.WorkspaceId == admin.WorkspaceId && a.TargetId == endpointId.ToString()).Select(a => a.Action).ToListAsync();
        Assert.Equal(["webhook.deleted", "webhook.disabled", "webhook.enabled", "webhook.secret_rotated", "webhook.updated"], actions.Order());
    }

    [Fact]
    public async Task Operators_and_viewers_cannot_change_endpoints_and_other_workspaces_get_404()
    {
        var (admin, op, viewer) = await CallersAsync();
        var (other, _, _) = await CallersAsync();
        var master = await Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, "https://hooks.example.com/m", []));
        var id = master.Endpoint.Id;

        foreach (var caller in new[] { op, viewer })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => Endpoints.UpdateAsync(caller, id, "https://hooks.example.com/x", []));
            await Assert.ThrowsAsync<ForbiddenException>(() => Endpoints.SetEnabledAsync(caller, id, false));
            await Assert.ThrowsAsync<ForbiddenException>(() => Endpoints.RotateSecretAsync(caller, id, TimeSpan.Zero));
            await Assert.ThrowsAsync<ForbiddenException>(() => Endpoints.DeleteAsync(caller, id));
        }

        await Assert.ThrowsAsync<ForbiddenException>(() => app.Service<WebhookTestService>().SendTestAsync(viewer, id));
        await Assert.ThrowsAsync<NotFoundException>(() => Endpoints.UpdateAsync(other, id, "https://hooks.example.com/x", []));
        await Assert.ThrowsAsync<NotFoundException>(() => Endpoints.DeleteAsync(other, id));
        await Assert.ThrowsAsync<NotFoundException>(() => app.Service<WebhookTestService>().SendTestAsync(other, id));
        Assert.Single(await Endpoints.OverviewAsync(viewer));
        Assert.Empty(await Endpoints.OverviewAsync(other));
    }

    [Fact]
    public async Task Send_test_to_a_campaign_webhook_answers_with_the_receivers_reply_signed_with_the_rotated_secret()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, body: """{"received":true}""");
        var (admin, op, _) = await CallersAsync();
        var campaign = await app.Service<CampaignService>().CreateAsync(admin, "Autumn", null);
        var hook = await Endpoints.CreateAsync(admin, new EndpointForm(EndpointScope.Campaign, campaign.Id, receiver.Url, []));
        var secret = (await Endpoints.RotateSecretAsync(admin, hook.Endpoint.Id, TimeSpan.Zero)).Secret;

        var result = await app.Service<WebhookTestService>().SendTestAsync(op, hook.Endpoint.Id);

        Assert.True(result.Success);
        Assert.Equal(200, result.HttpStatus);
        Assert.Equal("""{"received":true}""", result.ResponseBody);
        var request = Assert.Single(receiver.Requests);
        Assert.True(WebhookSignature.Verify(secret, request.Headers["webhook-id"], long.Parse(request.Headers["webhook-timestamp"]), request.Body, request.Headers["webhook-signature"]));
        Assert.False(WebhookSignature.Verify(hook.Secret, request.Headers["webhook-id"], long.Parse(request.Headers["webhook-timestamp"]), request.Body, request.Headers["webhook-signature"]));
        await using var db = await app.DbAsync();
        var delivery = await db.Deliveries.SingleAsync(d => d.Id == result.DeliveryId);
        Assert.Equal((hook.Endpoint.Id, DeliveryStatus.Delivered), (delivery.EndpointId, delivery.Status));
    }
}
