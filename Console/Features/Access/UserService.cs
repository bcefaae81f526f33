using System.Security.Cryptography;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Access;

public sealed record UserView(string Id, string Email, string? DisplayName, Role Role, bool IsDisabled, DateTime CreatedAt, DateTime? LastLoginAt)
{
    public static UserView From(ApplicationUser user) =>
        new(user.Id, user.Email ?? user.UserName ?? "", user.DisplayName, user.Role, user.IsDisabled, user.CreatedAt, user.LastLoginAt);
}

/// <summary>A new user and, when none was given, the password generated for them (shown once).</summary>
public sealed record CreatedUser(UserView User, string? GeneratedPassword);

/// <summary>
/// Console users of a workspace. Each operation runs in its own scope (UserManager holds a
/// DbContext), and writes its audit entry in the same SaveChanges as the change.
/// </summary>
public sealed class UserService(IServiceScopeFactory scopes, TimeProvider clock, ILogger<UserService> logger)
{
    public async Task<IReadOnlyList<UserView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var users = await db.Users.AsNoTracking()
            .Where(u => u.WorkspaceId == caller.WorkspaceId)
            .OrderBy(u => u.Email)
            .ToListAsync(cancellationToken);
        return users.Select(UserView.From).ToList();
    }

    public async Task<CreatedUser> CreateAsync(Caller caller, string email, string? displayName, Role role, string? password, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        var result = await CreateInWorkspaceAsync(caller.WorkspaceId, email, displayName, role, password, caller, cancellationToken);
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

        return await UpdateAsync(caller, userId, user =>
        {
            var before = user.Role;
            user.Role = role;
            RotateSecurityStamp(user);
            return Task.FromResult<(string, string?)>(("user.role_changed", $"{user.Email}: {before.ToWire()} -> {role.ToWire()}"));
        }, cancellationToken);
    }

    public async Task<UserView> SetDisabledAsync(Caller caller, string userId, bool disabled, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if (userId == caller.ActorId)
        {
            throw new ConflictException("You cannot disable your own account.");
        }

        return await UpdateAsync(caller, userId, user =>
        {
            user.IsDisabled = disabled;
            // A new stamp ends the user's cookies and open circuits within a minute.
            RotateSecurityStamp(user);
            return Task.FromResult<(string, string?)>((disabled ? "user.disabled" : "user.enabled", user.Email));
        }, cancellationToken);
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
        await db.Users.Where(u => u.Id == caller.ActorId && u.WorkspaceId == caller.WorkspaceId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, darkMode), cancellationToken);
    }

    public async Task<bool?> GetDarkModeAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Users.Where(u => u.Id == caller.ActorId && u.WorkspaceId == caller.WorkspaceId)
            .Select(u => u.PrefersDarkMode)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>First run: the admin of the default workspace. Returns the generated password, or null when the admin exists or one was configured.</summary>
    public async Task<(bool Created, string? GeneratedPassword)> EnsureAdminAsync(Guid workspaceId, string email, string? password, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        if (await users.FindByEmailAsync(email) is not null)
        {
            return (false, null);
        }

        var created = await CreateInWorkspaceAsync(workspaceId, email, "Administrator", Role.Admin, password, Caller.System(workspaceId, "bootstrap"), cancellationToken);
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

    private async Task<CreatedUser> CreateInWorkspaceAsync(Guid workspaceId, string email, string? displayName, Role role, string? password, Caller actor, CancellationToken cancellationToken)
    {
        email = email.Trim();
        if (!new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(email))
        {
            throw new ValidationException("body", "email", "Enter a valid email address.");
        }

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
            WorkspaceId = workspaceId,
            Role = role,
            CreatedAt = now,
            LockoutEnabled = false,
        };

        db.Record(actor, now, "user.created", "user", user.Id, $"{email} ({role.ToWire()})");
        var result = await users.CreateAsync(user, password ?? generated!);
        if (!result.Succeeded)
        {
            throw new ValidationException(result.Errors.Select(e => new FieldError(["body", e.Code.Contains("Password", StringComparison.Ordinal) ? "password" : "email"], e.Description, e.Code)).ToList());
        }

        return new CreatedUser(UserView.From(user), generated);
    }

    private async Task<UserView> UpdateAsync(Caller caller, string userId, Func<ApplicationUser, Task<(string Action, string? Details)>> change, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId && u.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("User not found.");

        var (action, details) = await change(user);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, action, "user", user.Id, details);
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            throw new ConflictException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        logger.LogInformation("{Action} on user {UserId} by {Actor}", action, user.Id, caller.ActorName);
        return UserView.From(user);
    }
}
