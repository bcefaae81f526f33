using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Saved views: each user's own list, renamed by saving again, opened by link in the workspace only.</summary>
public sealed class SavedViewTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task Views_are_per_user_shareable_in_the_workspace_and_404_outside_it()
    {
        var workspace = await app.SystemCallerAsync("views-" + Guid.NewGuid().ToString("N")[..6]);
        var users = app.Service<UserService>();
        var ada = (await users.CreateAsync(workspace, $"ada-{Guid.NewGuid():N}@example.com", null, Role.Viewer, "Ada-Passw0rd-12")).User;
        var bob = (await users.CreateAsync(workspace, $"bob-{Guid.NewGuid():N}@example.com", null, Role.Viewer, "Bob-Passw0rd-12")).User;
        var asAda = new Caller(workspace.WorkspaceId, Role.Viewer, "user", ada.Id, "Ada");
        var asBob = new Caller(workspace.WorkspaceId, Role.Viewer, "user", bob.Id, "Bob");
        var views = app.Service<SavedViewService>();

        var saved = await views.SaveAsync(asAda, "  Failed calls ", new InspectorQuery { Status = "failed", Type = "call.completed", Sort = "attempts" });
        Assert.Equal("Failed calls", saved.Name);
        Assert.Equal("status=failed&type=call.completed", saved.Query);
        var again = await views.SaveAsync(asAda, "Failed calls", new InspectorQuery { Status = "failed" });
        Assert.Equal(saved.Id, again.Id);
        Assert.Equal("status=failed", Assert.Single(await views.ListAsync(asAda)).Query);
        Assert.Empty(await views.ListAsync(asBob));

        // Bob opens Ada's link; a key, another workspace and a stranger's delete do not reach it.
        Assert.Equal(saved.Id, (await views.GetAsync(asBob, saved.Id)).Id);
        var elsewhere = new Caller(Guid.NewGuid(), Role.Admin, "user", ada.Id, "Ada");
        await Assert.ThrowsAsync<NotFoundException>(() => views.GetAsync(elsewhere, saved.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => views.DeleteAsync(asBob, saved.Id));
        await Assert.ThrowsAsync<ValidationException>(() => views.SaveAsync(asAda, " ", new InspectorQuery()));
        await Assert.ThrowsAsync<ForbiddenException>(() => views.SaveAsync(workspace with { ActorType = "key" }, "x", new InspectorQuery()));
        await views.DeleteAsync(asAda, saved.Id);
        Assert.Empty(await views.ListAsync(asAda));
    }
}
