using System.Security.Claims;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;

namespace DeliveryConsole.Components.Shared;

/// <summary>The workspace a console page shows, as the signed-in user's claims name it.</summary>
public sealed record CurrentWorkspace(Guid Id, string Slug, string Name, bool ViaStaff, Role? StaffRole);

/// <summary>The signed-in console user as a <see cref="Caller"/>, for pages to hand to services.</summary>
public sealed class CurrentCaller(AuthenticationStateProvider authentication)
{
    public async Task<Caller> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return Caller.FromPrincipal(state.User) ?? throw new UnauthorizedException("You are signed out, or may not see this workspace. Sign in again.");
    }

    /// <summary>The page's workspace, or null when the user has none they may see.</summary>
    public async Task<CurrentWorkspace?> GetWorkspaceAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        Role? staff = Roles.TryParse(user.FindFirstValue(WorkspaceRouting.StaffClaim), out var role) ? role : null;
        if (!Guid.TryParse(user.FindFirstValue(Caller.WorkspaceClaim), out var id))
        {
            return null;
        }

        return new CurrentWorkspace(id, user.FindFirstValue(WorkspaceRouting.SlugClaim) ?? id.ToString(), user.FindFirstValue(WorkspaceRouting.NameClaim) ?? "",
            user.HasClaim(WorkspaceRouting.ViaStaffClaim, "1"), staff);
    }

    /// <summary>The signed-in user's name as the app bar shows it, even where they have no workspace.</summary>
    public async Task<string?> GetDisplayNameAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return user.FindFirstValue(Caller.DisplayNameClaim) ?? user.Identity?.Name;
    }

    /// <summary>The signed-in user's id, or null (portal visitors, signed out).</summary>
    public async Task<string?> GetUserIdAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return user.Identity?.IsAuthenticated == true && user.FindFirstValue(Caller.ActorTypeClaim) == "user" ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
    }
}
