using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Search;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Workspaces;

/// <summary>"Find anything" across the workspaces a user may see, on a real database.</summary>
public sealed class FindAnythingTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private FindService Find => app.Service<FindService>();

    private sealed record Seeded(Caller Admin, WorkspaceSummary Workspace, string EventId, Guid DeliveryId, Guid EndpointId, string CallId, string CallbackId, string Host, string Number);

    private async Task<Seeded> SeedAsync(string prefix)
    {
        var admin = await app.SystemCallerAsync($"{prefix} {Guid.NewGuid().ToString("N")[..6]}");
        var workspace = (await app.Service<WorkspaceService>().FindAsync(admin.WorkspaceId))!;
        var host = $"{prefix.ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..6]}.example";
        var number = "+1555" + Random.Shared.Next(1_000_000, 9_999_999);
        var endpoint = await app.Service<EndpointService>().CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, $"https://{host}/hooks/calls", []));
        await using var db = await app.DbAsync();
        var now = DateTime.UtcNow;
        var evt = new WebhookEvent { Id = $"evt_{Guid.NewGuid():N}"[..28], WorkspaceId = admin.WorkspaceId, Type = "call.completed", Channel = "voice", PayloadJson = "{}", CreatedAt = now };
        var delivery = new Delivery
        {
            Id = Guid.CreateVersion7(), WorkspaceId = admin.WorkspaceId, EventId = evt.Id, EndpointId = endpoint.Endpoint.Id, EventType = evt.Type, Channel = "voice",
            TargetUrl = endpoint.Endpoint.Url, TargetHost = host, PayloadJson = "{}", Status = DeliveryStatus.Failed, CreatedAt = now, UpdatedAt = now,
        };
        var call = new Call { Id = Call.NewId(), WorkspaceId = admin.WorkspaceId, Status = CallStatus.Completed, Direction = "OUTBOUND", ToNumber = number, CreatedAt = now, UpdatedAt = now, EventPublishedAt = now };
        var callback = new Callback { Id = Callback.NewId(), WorkspaceId = admin.WorkspaceId, ToNumber = number, Status = CallbackStatus.Scheduled, ScheduledAt = now.AddHours(2), CreatedAt = now, UpdatedAt = now };
        db.AddRange(evt, delivery, call, callback);
        await db.SaveChangesAsync();
        return new Seeded(admin, new WorkspaceSummary(workspace.Id, workspace.Name, workspace.Slug!), evt.Id, delivery.Id, endpoint.Endpoint.Id, call.Id, callback.Id, host, number);
    }

    private async Task<string> MemberOfAsync(params Seeded[] workspaces)
    {
        var email = $"finder-{Guid.NewGuid():N}@example.com";
        string? id = null;
        foreach (var seeded in workspaces)
        {
            id ??= (await app.Service<UserService>().CreateAsync(seeded.Admin, email, null, Role.Viewer, "Finder-Passw0rd-1")).User.Id;
            if (seeded != workspaces[0])
            {
                await app.Service<UserService>().CreateAsync(seeded.Admin, email, null, Role.Viewer, null);
            }
        }

        return id!;
    }

    [Fact]
    public async Task Finds_each_kind_of_id_in_the_second_of_two_workspaces_and_opens_it_there()
    {
        var first = await SeedAsync("First");
        var second = await SeedAsync("Second");
        var user = await MemberOfAsync(first, second);

        var byEvent = await Find.FindAsync(user, second.EventId);
        var match = Assert.Single(byEvent.Matches);
        Assert.Equal(("event", second.Workspace.Id), (match.Kind, match.Workspace.Id));
        Assert.Equal($"/w/{second.Workspace.Slug}/deliveries?q={second.EventId}", match.Href);

        Assert.Equal($"/w/{second.Workspace.Slug}/deliveries/{second.DeliveryId}", Assert.Single((await Find.FindAsync(user, second.DeliveryId.ToString())).Matches).Href);
        Assert.Equal($"/w/{second.Workspace.Slug}/calls/{second.CallId}", Assert.Single((await Find.FindAsync(user, $"  {second.CallId} ")).Matches).Href);
        Assert.Equal($"/w/{second.Workspace.Slug}/callbacks?id={second.CallbackId}", Assert.Single((await Find.FindAsync(user, second.CallbackId)).Matches).Href);
        Assert.Equal($"/w/{second.Workspace.Slug}/deliveries?endpoint={second.EndpointId}", Assert.Single((await Find.FindAsync(user, second.EndpointId.ToString())).Matches).Href);
        Assert.Equal($"/w/{second.Workspace.Slug}/deliveries?endpoint={second.EndpointId}", Assert.Single((await Find.FindAsync(user, $"https://{second.Host}/hooks/calls")).Matches).Href);

        var byHost = await Find.FindAsync(user, second.Host);
        Assert.Equal("host", byHost.Understood);
        Assert.All(byHost.Matches, m => Assert.Equal(second.Workspace.Id, m.Workspace.Id));
        Assert.Contains(byHost.Matches, m => m.Kind == "endpoint");

        // A phone number as people type it: spaces and dashes, the call and the callback both found.
        var spaced = $"{second.Number[..2]} {second.Number[2..5]}-{second.Number[5..]}";
        var byNumber = await Find.FindAsync(user, spaced);
        Assert.Equal("phone number", byNumber.Understood);
        Assert.Equal(["callbacks", "calls"], byNumber.Matches.Select(m => m.Kind).Order().ToArray());
        Assert.All(byNumber.Matches, m => Assert.Equal(second.Workspace.Id, m.Workspace.Id));
    }

    [Fact]
    public async Task An_id_of_a_workspace_the_user_may_not_see_gets_the_same_answer_as_no_match()
    {
        var mine = await SeedAsync("Mine");
        var theirs = await SeedAsync("Theirs");
        var user = await MemberOfAsync(mine);

        foreach (var (hidden, missing) in new[]
                 {
                     (theirs.EventId, "evt_" + Guid.NewGuid().ToString("N")[..24]),
                     (theirs.DeliveryId.ToString(), Guid.NewGuid().ToString()),
                     (theirs.CallId, Call.NewId()),
                     (theirs.CallbackId, Callback.NewId()),
                     (theirs.Host, "nobody-" + Guid.NewGuid().ToString("N")[..6] + ".example"),
                     (theirs.Number, "+15550000000"),
                 })
        {
            var refused = await Find.FindAsync(user, hidden);
            var none = await Find.FindAsync(user, missing);
            Assert.Empty(refused.Matches);
            Assert.Equal(none.Understood, refused.Understood);
            Assert.Equal(none.Matches.Count, refused.Matches.Count);
        }

        // Platform staff see it.
        var staff = (await app.Service<UserService>().CreateAsync(mine.Admin, $"staff-{Guid.NewGuid():N}@example.com", null, Role.Viewer, "Staff-Passw0rd-1")).User;
        await app.Service<UserService>().SetStaffByEmailAsync(staff.Email, Role.Viewer);
        Assert.Equal(theirs.Workspace.Id, Assert.Single((await Find.FindAsync(staff.Id, theirs.EventId)).Matches).Workspace.Id);

        // Text that is none of the kinds finds nothing and says so.
        Assert.Equal("not an id, URL, host or phone number", (await Find.FindAsync(user, "hello world")).Understood);
        Assert.Empty((await Find.FindAsync(user, "")).Matches);
    }
}
