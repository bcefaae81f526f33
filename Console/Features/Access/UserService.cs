using System.Security.Cryptography;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Access;

/// <summary>A member of a workspace: the user, their role there, and whether they are platform staff.</summary>
public sealed record UserView(string Id, string Email, string? DisplayName, Role Role, bool IsDisabled, DateTime CreatedAt, DateTime? LastLoginAt, Role? StaffRole = null, int Workspaces = 1);

/// <summary>Times in UTC or the operator's zone, and the inspector columns the user hid.</summary>
public sealed record DisplayPreferences(bool Utc, IReadOnlySet<string> HiddenColumns)
{
    public static readonly DisplayPreferences Default = new(false, new HashSet<string>());
}

/// <summary>A new member and, when a new account was made without a given password, its generated password (shown once).</summary>
public sealed record CreatedUser(UserView User, string? GeneratedPassword, bool ExistingAccount = false);

/// <summary>
/// Console users and their memberships. An admin of a workspace manages who belongs to it and with
/// which role; platform staff (a flag on the account, with a role) see every workspace. Each
/// operation runs in its own scope (UserManager holds a DbContext), and writes its audit entry in
/// the same SaveChanges as the change.
/// </summary>
public sealed class UserService(IServiceScopeFactory scopes, WorkspaceAccess access, UserSessions sessions, FirstRunPassword firstRun, TimeProvider clock, ILogger<UserService> logger)
{
    /// <summary>
    /// The signed-in user changes their own password (the current one is checked). Every session
    /// of theirs ends at once, this one included (each asks to sign in with the new password); the
    /// first run's password file goes when the account it names changes its password.
    /// </summary>
    public async Task ChangePasswordAsync(Caller caller, string currentPassword, string newPassword, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            throw new ForbiddenException("Only a signed-in user changes their own password.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByIdAsync(caller.ActorId) ?? throw new NotFoundException("User not found.");
        var result = await users.ChangePasswordAsync(user, currentPassword ?? "", newPassword ?? "");
        if (!result.Succeeded)
        {
            var wrong = result.Errors.Any(e => e.Code == "PasswordMismatch");
            throw new ValidationException("body", wrong ? "currentPassword" : "newPassword",
                wrong ? "The current password is not right." : string.Join(" ", result.Errors.Select(e => e.Description)), "value_error");
        }

        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "user.password_changed", "user", user.Id, user.Email ?? "");
        await db.SaveChangesAsync(cancellationToken);
        await sessions.EndAllAsync(user.Id, "password_changed", cancellationToken);
        if (firstRun.Exists && firstRun.Names(user.Email))
        {
            firstRun.Delete();
        }

        logger.LogInformation("User {UserId} changed their password", user.Id);
    }

    /// <summary>The members of the caller's workspace, by email.</summary>
    public async Task<IReadOnlyList<UserView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var rows = await (
                from m in db.WorkspaceMembers.AsNoTracking()
                join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                where m.WorkspaceId == caller.WorkspaceId
                orderby u.Email
                select new
                {
                    User = u,
                    m.Role,
                    Workspaces = db.WorkspaceMembers.Count(other => other.UserId == u.Id),
                })
            .ToListAsync(cancellationToken);
        return rows.Select(r => ViewOf(r.User, r.Role, r.Workspaces)).ToList();
    }

    /// <summary>
    /// Adds a member to the caller's workspace: a new account, or an existing one (another
    /// workspace's user) given a role here. The password applies to new accounts only.
    /// </summary>
    public async Task<CreatedUser> CreateAsync(Caller caller, string email, string? displayName, Role role, string? password, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        email = CheckedEmail(email);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            if (await users.FindByEmailAsync(email) is { } existing)
            {
                if (await db.WorkspaceMembers.AnyAsync(m => m.UserId == existing.Id && m.WorkspaceId == caller.WorkspaceId, cancellationToken))
                {
                    throw new ConflictException($"{email} is already a member of this workspace.");
                }

                var now = clock.GetUtcNow().UtcDateTime;
                db.WorkspaceMembers.Add(new WorkspaceMember { UserId = existing.Id, WorkspaceId = caller.WorkspaceId, Role = role, CreatedAt = now });
                db.Record(caller, now, "user.added", "user", existing.Id, $"{email} ({role.ToWire()}), an existing account");
                await SaveMembershipAsync(db, cancellationToken);
                access.Forget(existing.Id);
                logger.LogInformation("User {UserId} added to workspace {WorkspaceId} as {Role} by {Actor}", existing.Id, caller.WorkspaceId, role, caller.ActorName);
                var workspaces = await db.WorkspaceMembers.CountAsync(m => m.UserId == existing.Id, cancellationToken);
                return new CreatedUser(ViewOf(existing, role, workspaces), null, ExistingAccount: true);
            }
        }

        var result = await CreateAccountAsync(caller.WorkspaceId, email, displayName, role, password, staffRole: null, caller, cancellationToken);
        logger.LogInformation("User {Email} ({Role}) created by {Actor}", result.User.Email, role, caller.ActorName);
        return result;
    }

    public async Task<UserView> ChangeRoleAsync(Caller caller, string userId, Role role, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if (userId == caller.ActorId)
        {
            throw new ConflictException("You cannot change your own role; ask another admin.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var (member, user) = await MemberAsync(db, caller, userId, cancellationToken);
        var before = member.Role;
        member.Role = role;
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "user.role_changed", "user", user.Id, $"{user.Email}: {before.ToWire()} -> {role.ToWire()}");
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(userId);
        logger.LogInformation("Role of user {UserId} in workspace {WorkspaceId} changed to {Role} by {Actor}", userId, caller.WorkspaceId, role, caller.ActorName);
        return ViewOf(user, role, await db.WorkspaceMembers.CountAsync(m => m.UserId == userId, cancellationToken));
    }

    /// <summary>Takes a member out of the caller's workspace; their account and other memberships stay.</summary>
    public async Task RemoveAsync(Caller caller, string userId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if (userId == caller.ActorId)
        {
            throw new ConflictException("You cannot remove yourself; ask another admin.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var (member, user) = await MemberAsync(db, caller, userId, cancellationToken);
        db.WorkspaceMembers.Remove(member);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "user.removed", "user", user.Id, $"{user.Email} ({member.Role.ToWire()})");
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(userId);
        logger.LogInformation("User {UserId} removed from workspace {WorkspaceId} by {Actor}", userId, caller.WorkspaceId, caller.ActorName);
    }

    /// <summary>
    /// Disables or enables the account itself (every workspace). An admin may do it to a member who
    /// belongs to no other workspace; platform staff admins to anyone.
    /// </summary>
    public async Task<UserView> SetDisabledAsync(Caller caller, string userId, bool disabled, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if (userId == caller.ActorId)
        {
            throw new ConflictException("You cannot disable your own account.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var (member, user) = await MemberAsync(db, caller, userId, cancellationToken);
        var workspaces = await db.WorkspaceMembers.CountAsync(m => m.UserId == userId, cancellationToken);
        if (workspaces > 1 && !await IsStaffAdminAsync(caller, cancellationToken))
        {
            throw new ForbiddenException($"{user.Email} also belongs to other workspaces: remove them from this one instead, or ask platform staff to disable the account.");
        }

        user.IsDisabled = disabled;
        // Disabling ends the user's sessions at once; the new stamp is the second lock.
        RotateSecurityStamp(user);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, disabled ? "user.disabled" : "user.enabled", "user", user.Id, user.Email);
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(userId);
        if (disabled)
        {
            await sessions.EndAllAsync(userId, "disabled", cancellationToken);
        }

        logger.LogInformation("{Action} on user {UserId} by {Actor}", disabled ? "user.disabled" : "user.enabled", userId, caller.ActorName);
        return ViewOf(user, member.Role, workspaces);
    }

    /// <summary>
    /// Makes a member of the caller's workspace platform staff with <paramref name="staffRole"/> in
    /// every workspace, or (null) takes the flag away. Only platform staff admins may.
    /// </summary>
    public async Task<UserView> SetStaffAsync(Caller caller, string userId, Role? staffRole, CancellationToken cancellationToken = default)
    {
        if (!await IsStaffAdminAsync(caller, cancellationToken))
        {
            throw new ForbiddenException("Only platform staff with the admin role can change who is platform staff.");
        }

        if (userId == caller.ActorId)
        {
            throw new ConflictException("You cannot change your own staff role; ask another staff admin.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var (member, user) = await MemberAsync(db, caller, userId, cancellationToken);
        var before = user.StaffRole;
        user.StaffRole = staffRole;
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "user.staff_changed", "user", user.Id,
            $"{user.Email}: platform staff {before?.ToWire() ?? "no"} -> {staffRole?.ToWire() ?? "no"}");
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(userId);
        logger.LogInformation("Staff role of user {UserId} set to {StaffRole} by {Actor}", userId, staffRole, caller.ActorName);
        return ViewOf(user, member.Role, await db.WorkspaceMembers.CountAsync(m => m.UserId == userId, cancellationToken));
    }

    /// <summary>The command line's <c>staff grant|revoke</c>: sets the flag by email, audited in the user's current workspace.</summary>
    public async Task<UserView> SetStaffByEmailAsync(string email, Role? staffRole, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var normalized = email.Trim().ToUpperInvariant();
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken)
            ?? throw new NotFoundException($"No console user has the email {email.Trim()}.");
        var before = user.StaffRole;
        user.StaffRole = staffRole;
        db.Record(Caller.System(user.CurrentWorkspaceId, "command line"), clock.GetUtcNow().UtcDateTime, "user.staff_changed", "user", user.Id,
            $"{user.Email}: platform staff {before?.ToWire() ?? "no"} -> {staffRole?.ToWire() ?? "no"}");
        await db.SaveChangesAsync(cancellationToken);
        access.Forget(user.Id);
        var role = await db.WorkspaceMembers.Where(m => m.UserId == user.Id && m.WorkspaceId == user.CurrentWorkspaceId).Select(m => (Role?)m.Role).FirstOrDefaultAsync(cancellationToken);
        return ViewOf(user, role ?? Role.Viewer, await db.WorkspaceMembers.CountAsync(m => m.UserId == user.Id, cancellationToken));
    }

    /// <summary>Remembers the console user's theme; only for themselves.</summary>
    public async Task SetDarkModeAsync(Caller caller, bool darkMode, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Users.Where(u => u.Id == caller.ActorId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, darkMode), cancellationToken);
    }

    public async Task<bool?> GetDarkModeAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Users.Where(u => u.Id == caller.ActorId)
            .Select(u => u.PrefersDarkMode)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>How the user wants times and the inspector's columns shown (their own choice, kept with their account).</summary>
    public async Task<DisplayPreferences> GetDisplayAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            return DisplayPreferences.Default;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = await db.Users.Where(u => u.Id == caller.ActorId)
            .Select(u => new { u.PrefersUtc, u.HiddenColumns })
            .FirstOrDefaultAsync(cancellationToken);
        return stored is null
            ? DisplayPreferences.Default
            : new DisplayPreferences(stored.PrefersUtc, (stored.HiddenColumns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Remembers the user's display choices; only for themselves.</summary>
    public async Task SetDisplayAsync(Caller caller, DisplayPreferences preferences, CancellationToken cancellationToken = default)
    {
        if (caller.ActorType != "user")
        {
            return;
        }

        var hidden = string.Join(',', preferences.HiddenColumns.Where(c => c.Length is > 0 and <= 32 && !c.Contains(',')).Order(StringComparer.Ordinal).Take(20));
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Users.Where(u => u.Id == caller.ActorId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersUtc, preferences.Utc).SetProperty(u => u.HiddenColumns, hidden.Length == 0 ? null : hidden), cancellationToken);
    }

    /// <summary>
    /// First run: the admin of the default workspace, who is platform staff (admin) so someone can
    /// reach every workspace. On later runs, makes that admin staff when nobody is (a database from
    /// before staff existed). Returns the generated password, or null when the admin exists or one was configured.
    /// </summary>
    public async Task<(bool Created, string? GeneratedPassword)> EnsureAdminAsync(Guid workspaceId, string email, string? password, CancellationToken cancellationToken = default)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            if (await users.FindByEmailAsync(email) is { } existing)
            {
                if (existing.StaffRole is null && !await db.Users.AnyAsync(u => u.StaffRole != null, cancellationToken))
                {
                    await db.Users.Where(u => u.Id == existing.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.StaffRole, Role.Admin), cancellationToken);
                }

                return (false, null);
            }
        }

        var created = await CreateAccountAsync(workspaceId, email, "Administrator", Role.Admin, password, staffRole: Role.Admin, Caller.System(workspaceId, "bootstrap"), cancellationToken);
        return (true, created.GeneratedPassword);
    }

    /// <summary>Changed in the same save as the change itself (UserManager's own method would save separately).</summary>
    private static void RotateSecurityStamp(ApplicationUser user) => user.SecurityStamp = Convert.ToHexString(RandomNumberGenerator.GetBytes(20));

    public static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789";
        var chars = (RandomNumberGenerator.GetString(lower + upper + digits, 17)
            + RandomNumberGenerator.GetString(lower, 1)
            + RandomNumberGenerator.GetString(upper, 1)
            + RandomNumberGenerator.GetString(digits, 1)).ToCharArray();
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    private static UserView ViewOf(ApplicationUser user, Role role, int workspaces) =>
        new(user.Id, user.Email ?? user.UserName ?? "", user.DisplayName, role, user.IsDisabled, user.CreatedAt, user.LastLoginAt, user.StaffRole, workspaces);

    private static string CheckedEmail(string email)
    {
        email = email.Trim();
        if (!new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(email))
        {
            throw new ValidationException("body", "email", "Enter a valid email address.");
        }

        return email;
    }

    private async Task<bool> IsStaffAdminAsync(Caller caller, CancellationToken cancellationToken) =>
        caller.ActorType == "user" && await access.StaffRoleAsync(caller.ActorId, cancellationToken) == Role.Admin;

    /// <summary>The membership of <paramref name="userId"/> in the caller's workspace; 404 for anyone else's users.</summary>
    private static async Task<(WorkspaceMember Member, ApplicationUser User)> MemberAsync(AppDbContext db, Caller caller, string userId, CancellationToken cancellationToken)
    {
        var member = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.UserId == userId && m.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("User not found.");
        var user = await db.Users.FirstAsync(u => u.Id == userId, cancellationToken);
        return (member, user);
    }

    private static async Task SaveMembershipAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException("That user was just added to this workspace.");
        }
    }

    private async Task<CreatedUser> CreateAccountAsync(Guid workspaceId, string email, string? displayName, Role role, string? password, Role? staffRole, Caller actor, CancellationToken cancellationToken)
    {
        email = CheckedEmail(email);
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (await users.FindByEmailAsync(email) is not null)
        {
            throw new ConflictException($"A user with the email {email} already exists.");
        }

        var generated = string.IsNullOrEmpty(password) ? GeneratePassword() : null;
        var now = clock.GetUtcNow().UtcDateTime;
        var user = new ApplicationUser
        {
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? null : displayName.Trim(),
            CurrentWorkspaceId = workspaceId,
            StaffRole = staffRole,
            CreatedAt = now,
            LockoutEnabled = false,
        };

        // UserManager saves the user, the membership and the audit entry in one SaveChanges.
        db.WorkspaceMembers.Add(new WorkspaceMember { UserId = user.Id, WorkspaceId = workspaceId, Role = role, CreatedAt = now });
        db.Record(actor, now, "user.created", "user", user.Id, $"{email} ({role.ToWire()})");
        var result = await users.CreateAsync(user, password ?? generated!);
        if (!result.Succeeded)
        {
            throw new ValidationException(result.Errors.Select(e => new FieldError(["body", e.Code.Contains("Password", StringComparison.Ordinal) ? "password" : "email"], e.Description, e.Code)).ToList());
        }

        return new CreatedUser(ViewOf(user, role, 1), generated);
    }
}
