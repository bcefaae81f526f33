using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Access;

public sealed class UserServiceTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private UserService Users => app.Service<UserService>();

    [Fact]
    public async Task CreateChangeRoleDisable_AreAudited_AndDisablingRotatesTheSecurityStamp()
    {
        var admin = await app.SystemCallerAsync("users-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await Users.CreateAsync(admin, "ops@example.com", "Ops", Role.Viewer, password: null);
        Assert.NotNull(created.GeneratedPassword);
        Assert.True(created.GeneratedPassword!.Length >= 20);

        string Stamp(string id)
        {
            using var db = app.DbAsync().GetAwaiter().GetResult();
            return db.Users.Single(u => u.Id == id).SecurityStamp!;
        }

        var before = Stamp(created.User.Id);
        await Users.ChangeRoleAsync(admin, created.User.Id, Role.Operator);
        // A role is a membership's: it applies on the next request (and within a minute on an open
        // page, by revalidation) without signing the user out of their other workspaces.
        var afterRole = Stamp(created.User.Id);
        Assert.Equal(before, afterRole);
        await Users.SetDisabledAsync(admin, created.User.Id, true);
        Assert.NotEqual(afterRole, Stamp(created.User.Id));

        var listed = (await Users.ListAsync(admin)).Single(u => u.Id == created.User.Id);
        Assert.Equal(Role.Operator, listed.Role);
        Assert.True(listed.IsDisabled);

        await using var check = await app.DbAsync();
        var actions = await check.AuditEntries.Where(a => a.TargetId == created.User.Id).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync();
        Assert.Equal(["user.created", "user.role_changed", "user.disabled"], actions);
    }

    [Fact]
    public async Task Users_CannotLockThemselvesOut_NorTouchAnotherWorkspace()
    {
        var workspace = await app.SystemCallerAsync("self-" + Guid.NewGuid().ToString("N")[..8]);
        var me = await Users.CreateAsync(workspace, $"me-{Guid.NewGuid():N}@example.com", null, Role.Admin, "Admin-Passw0rd-1");
        var self = workspace with { ActorType = "user", ActorId = me.User.Id, ActorName = me.User.Email };
        await Assert.ThrowsAsync<ConflictException>(() => Users.SetDisabledAsync(self, me.User.Id, true));
        await Assert.ThrowsAsync<ConflictException>(() => Users.ChangeRoleAsync(self, me.User.Id, Role.Viewer));

        var other = await app.SystemCallerAsync("other-" + Guid.NewGuid().ToString("N")[..8]);
        await Assert.ThrowsAsync<NotFoundException>(() => Users.SetDisabledAsync(other, me.User.Id, true));
        Assert.DoesNotContain(await Users.ListAsync(other), u => u.Id == me.User.Id);

        var viewer = self with { Role = Role.Viewer };
        await Assert.ThrowsAsync<ForbiddenException>(() => Users.ListAsync(viewer));
        await Assert.ThrowsAsync<ForbiddenException>(() => Users.CreateAsync(viewer, "x@example.com", null, Role.Admin, null));
    }

    [Fact]
    public async Task DuplicateEmail_IsAConflict_AndWeakPasswordAValidationError()
    {
        var admin = await app.SystemCallerAsync("dup-" + Guid.NewGuid().ToString("N")[..8]);
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        await Users.CreateAsync(admin, email, null, Role.Viewer, null);
        await Assert.ThrowsAsync<ConflictException>(() => Users.CreateAsync(admin, email, null, Role.Viewer, null));
        var weak = await Assert.ThrowsAsync<ValidationException>(() => Users.CreateAsync(admin, $"weak-{Guid.NewGuid():N}@example.com", null, Role.Viewer, "short"));
        Assert.Contains(weak.Errors, e => e.Location[1] == "password");
        await Assert.ThrowsAsync<ValidationException>(() => Users.CreateAsync(admin, "not-an-email", null, Role.Viewer, null));
    }
}
